import { inject } from "vitest";
import {
  sharedStack,
  type SharedStack,
  type SharedStackInfo,
  type StackSettings,
} from "../../../tools/app-stack/shared";

declare module "vitest" {
  export interface ProvidedContext {
    stack: SharedStackInfo;
  }
}

export type Stack = SharedStack;

/**
 * The whole app as a user meets it (the production build global-setup made, served once per run),
 * with this test file's settings: every file starts from the stack's own settings plus these.
 */
export async function useStack(settings: StackSettings = {}): Promise<Stack> {
  const stack = sharedStack(inject("stack"));
  await stack.configure(settings);
  return stack;
}
