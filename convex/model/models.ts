import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { configuredModels, modelKind, type ModelOption } from "../lib/llm/config";
import {
  DEFAULT_EFFORT,
  isPickerEffort,
  PICKER_EFFORTS,
  type PickerEffort,
} from "../../lib/reasoning";
import { getPreferences } from "./preferences";

/** The configured model called `name`; anything else (stale, forged) is InvalidArgument. */
export function requireKnownModel(name: string): ModelOption {
  const models = configuredModels();
  const found = models.find((m) => m.name === name);
  if (found === undefined) {
    const known = models.map((m) => `"${m.name}"`).join(", ");
    throw appError(
      "InvalidArgument",
      known === ""
        ? "No model is configured, so none can be chosen."
        : `There is no model called "${name.slice(0, 100)}". Choose one of ${known}.`,
    );
  }
  return found;
}

function stillConfigured(name: string | undefined): string | undefined {
  return name !== undefined && configuredModels().some((m) => m.name === name) ? name : undefined;
}

/** The model a new chat starts with: the user's last choice while it is configured, else the first. */
export async function defaultModelFor(
  ctx: QueryCtx,
  userId: Id<"users">,
): Promise<string | undefined> {
  const preferences = await getPreferences(ctx, userId);
  return stillConfigured(preferences?.lastModel) ?? configuredModels()[0]?.name;
}

/** An effort a user picked (low, medium, high); anything else is InvalidArgument. */
export function requirePickerEffort(effort: string): PickerEffort {
  if (!isPickerEffort(effort)) {
    throw appError(
      "InvalidArgument",
      `There is no reasoning effort called "${effort.slice(0, 40)}". Choose one of ${PICKER_EFFORTS.join(", ")}.`,
    );
  }
  return effort;
}

/**
 * The effort a chat's next reply from `model` thinks with, or undefined when `model` does not
 * reason: the chat's pick, else its owner's last pick, else the deployment's configured effort,
 * else medium.
 */
export async function chatEffort(
  ctx: QueryCtx,
  session: Doc<"sessions">,
  model: string | undefined,
): Promise<string | undefined> {
  const kind = modelKind(model);
  if (!kind.reasoning) return undefined;
  if (session.reasoningEffort !== undefined) return session.reasoningEffort;
  const preferences = await getPreferences(ctx, session.userId);
  return preferences?.lastReasoningEffort ?? kind.effort ?? DEFAULT_EFFORT;
}

/**
 * Whether a chat's next reply from `model` may search the web: only where the deployment allows
 * it (MODELS_WEB_SEARCH), then the chat's choice, else its owner's last choice, else off.
 */
export async function chatWebSearch(
  ctx: QueryCtx,
  session: Doc<"sessions">,
  model: string | undefined,
): Promise<boolean> {
  if (!modelKind(model).webSearch) return false;
  if (session.webSearch !== undefined) return session.webSearch;
  const preferences = await getPreferences(ctx, session.userId);
  return preferences?.lastWebSearch === true;
}

/** The model a chat's next reply uses: its choice while configured, else its owner's default. */
export async function chatModel(
  ctx: QueryCtx,
  session: Doc<"sessions">,
): Promise<string | undefined> {
  return stillConfigured(session.model) ?? (await defaultModelFor(ctx, session.userId));
}
