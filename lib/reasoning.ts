/**
 * Reasoning models (o-series, gpt-5 and its successors, codex): the efforts they take, the ones a
 * user picks per chat, and the guesses from a deployment's name used when configuration does not
 * say (convex/lib/llm/config.ts; Azure's portal names a deployment after its model by default).
 */

/** Every effort a deployment may be configured with (MODELS_REASONING `name=effort`). */
export const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"] as const;
export type ReasoningEffortSetting = (typeof REASONING_EFFORTS)[number];

/** The efforts a user picks per chat in the model picker. */
export const PICKER_EFFORTS = ["low", "medium", "high"] as const;
export type PickerEffort = (typeof PICKER_EFFORTS)[number];

/** The effort asked for when neither the chat nor the deployment's configuration says. */
export const DEFAULT_EFFORT: PickerEffort = "medium";

export function isReasoningEffort(value: string): value is ReasoningEffortSetting {
  return (REASONING_EFFORTS as readonly string[]).includes(value);
}

export function isPickerEffort(value: string): value is PickerEffort {
  return (PICKER_EFFORTS as readonly string[]).includes(value);
}

/** How an effort reads in the UI ("high effort"). */
export function effortLabel(effort: string): string {
  return effort === "xhigh" ? "extra high" : effort;
}

/** The model families that reason: o1, o3, o4-mini, gpt-5 (not gpt-5-chat), codex, gpt-oss. */
export function guessReasoning(name: string): boolean {
  return /^(o\d|gpt-5(?!(\.\d+)?-chat)|gpt-oss|codex|[\w.-]*-codex)/i.test(name.trim());
}

/** The model families that read images: gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, o4 (not their minis before o4). */
export function guessAcceptsImages(name: string): boolean {
  return /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1(?!-mini)|o3(?!-mini)|o4)/i.test(name.trim());
}
