import { inject } from "vitest";
import {
  sharedStack,
  type SharedStack,
  type SharedStackInfo,
  type StackSettings,
} from "../../../tools/app-stack/shared";

declare module "vitest" {
  export interface ProvidedContext {
    stacks: SharedStackInfo[];
  }
}

export type Stack = SharedStack;

/**
 * The whole app as a user meets it (the production build global-setup made, served once per run
 * for each worker), with this test file's settings: every file starts from the stack's own
 * settings plus these.
 */
export async function useStack(settings: StackSettings = {}): Promise<Stack> {
  const stacks = inject("stacks");
  const worker = Number(process.env.VITEST_POOL_ID ?? "1");
  const stack = sharedStack(stacks[(worker - 1) % stacks.length]!);
  await stack.configure(settings);
  return stack;
}
