import { describe, expect, it, vi } from "vitest";
import { convexLogger, refusalLine } from "./convex-logger";

// As the Convex client logs a failed call from a dev deployment (the local backend's dev mode).
const devFailure = (data: string) =>
  `[CONVEX A(auth:signIn)] [Request ID: 5ae34db3b9814bf7] Server Error\nUncaught ConvexError: ${data}\n    at appError (../convex/lib/errors.ts:21:10)\n    at passwordSignInError (../convex/auth.ts:34:9)\n`;

function recorder() {
  const calls: Array<[string, unknown[]]> = [];
  const out = Object.fromEntries(
    (["debug", "log", "info", "warn", "error"] as const).map((level) => [
      level,
      vi.fn((...args: unknown[]) => calls.push([level, args])),
    ]),
  ) as unknown as Console;
  return { out, calls };
}

describe("the Convex client's logger", () => {
  it("prints an expected refusal (a ConvexError with a code) as one info line without the stack", () => {
    const { out, calls } = recorder();
    convexLogger(out).error(
      devFailure('{"code":"InvalidArgument","message":"Wrong email or password."}'),
    );
    expect(calls).toEqual([
      ["info", ["[CONVEX A(auth:signIn)] refused (InvalidArgument): Wrong email or password."]],
    ]);
  });

  it("keeps every other error an error, in full", () => {
    const { out, calls } = recorder();
    const logger = convexLogger(out);
    const uncaught = `[CONVEX M(messages:send)] [Request ID: 1] Server Error\nUncaught Error: boom\n    at handler (../convex/messages.ts:1:1)\n`;
    const noCode = devFailure('"a plain string"');
    const production = "[CONVEX M(messages:send)] [Request ID: 2] Server Error";
    for (const line of [uncaught, noCode, production]) logger.error(line);
    logger.error("[CONVEX FATAL ERROR]", new Error("x"));
    expect(calls.map(([level]) => level)).toEqual(["error", "error", "error", "error"]);
    expect(calls[0]?.[1]).toEqual([uncaught]);
    expect(refusalLine(uncaught)).toBeNull();
  });

  it("passes the client's other lines through, and verbose lines only when asked", () => {
    const { out, calls } = recorder();
    convexLogger(out).log("WebSocket reconnected");
    convexLogger(out).warn("careful");
    convexLogger(out).logVerbose("quiet");
    convexLogger(out, true).logVerbose("loud");
    expect(calls.map(([level, args]) => [level, args.at(-1)])).toEqual([
      ["log", "WebSocket reconnected"],
      ["warn", "careful"],
      ["debug", "loud"],
    ]);
  });
});
