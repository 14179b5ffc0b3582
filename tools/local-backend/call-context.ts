import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import type { ReadSet } from "./read-set";

// What a running function call carries through its async work: the deployment environment, its
// log lines and reads, and the limits and hooks the engine applies to it.

/** The context of one function call, available to all the work it starts. */
export type CallContext = {
  env: Record<string, string>;
  /** For HTTP actions: the real origin replacing convex-test's placeholder in `request.url`. */
  siteOrigin?: string;
  /** For HTTP actions: why the request's Authorization header gave no identity. */
  identityError?: string;
  /** For HTTP actions: the matched route, which names the execution (`GET /hello`). */
  httpRoute?: string;
  logLines: string[];
  reads?: ReadSet;
  /** A subscribed query's journal: the end cursor its page keeps, and the one it ends at now. */
  journal?: { endCursor: string | null; next: string | null };
  commitTs?: bigint;
  echo: (line: string) => void;
  /** Set when an action passed its time limit: whatever it still tries to run fails. */
  timedOut?: string;
  /**
   * Fails the running call with an uncaught exception or unhandled rejection of its code (`event`
   * is Node's name for it: "uncaughtException" or "unhandledRejection").
   */
  onUncaught?: (error: unknown, event: string) => void;
  /** The call is an action of a "use node" module: Convex runs it in its Node executor. */
  nodeRuntime?: boolean;
  /** A scheduled mutation's job: marked "success" in the mutation's own commit. */
  jobId?: string;
  /** The component whose `_scheduled_functions` holds `jobId` ("" for the app's). */
  jobComponent?: string;
  /** What functions of each installed component see as `process.env`, by component path. */
  componentEnvs?: ReadonlyMap<string, Record<string, string>>;
  /** The backend's own writes (job states), which may touch system tables. */
  system?: boolean;
  /** Reports the function executions of this call (usage accounting). */
  meter?: CallMeter;
  /** The commit a query's transaction reads: the last one before it began. */
  snapshotTs?: bigint;
  /** `console.time` labels of this execution. */
  consoleTimers?: Map<string, number>;
};

/** convex-test's context of the running function (its name and component). */
export type ExecutionContext = { componentPath: string; udfPath: string; udfType: string };

/** Meters a call's function executions: `begin` returns the callback that ends one, if metered. */
export type CallMeter = {
  begin(context: ExecutionContext, call: CallContext): ((ok: boolean) => void) | undefined;
};

/** The running call of the current async context, if any. */
export const callStorage = new AsyncLocalStorage<CallContext>();

// The async context of the module's load: no function call, no convex-test transaction. Work
// triggered from inside a call (commit notifications, scheduled jobs) starts from here, or it
// would inherit the caller's transaction state (a timer firing inside a committed mutation).
const rootScope = new AsyncResource("local-backend");

/**
 * Fails the function call whose code threw `error` outside its own promise chain (a timer callback,
 * a floating promise); false when no call is running in that context (the caller logs it instead).
 */
export function failCallWithUncaught(error: unknown, event: string): boolean {
  const onUncaught = callStorage.getStore()?.onUncaught;
  if (onUncaught === undefined) return false;
  onUncaught(error, event);
  return true;
}

/** Runs `fn` outside every function call and transaction context. */
export function detached<T>(fn: () => T): T {
  return rootScope.runInAsyncScope(fn);
}
