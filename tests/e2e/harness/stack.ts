import {
  startStack as startAppStack,
  type Stack,
  type StackOptions,
} from "../../../tools/app-stack";
import { E2E_DIST_DIR } from "./global-setup";

export type { Stack };

/** The whole app as a user meets it, serving the production build that global-setup made. */
export function startStack(
  options: Pick<StackOptions, "sim" | "env" | "proxy"> = {},
): Promise<Stack> {
  return startAppStack({
    ...options,
    app: { distDir: E2E_DIST_DIR },
    verbose: process.env.E2E_VERBOSE === "1",
  });
}
