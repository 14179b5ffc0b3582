import type { UserIdentity } from "convex/server";
import type { Value } from "convex/values";

// The engine's data shapes, apart from the engine so the modules it uses can name them.

/** A committed transaction: its timestamp and the documents it wrote (null = deleted). */
export type Commit = {
  ts: bigint;
  writes: Array<[string, Record<string, Value> | null]>;
  /** The same documents before the commit. */
  previous: Array<Record<string, Value> | null>;
  nextDocId: number;
  lastCreationTime: number;
};

/** The state the engine can be restored from. */
export type EngineState = {
  documents: Record<string, Record<string, Value>>;
  nextDocId: number;
  lastCreationTime: number;
  ts: bigint;
};

/** The identity of a verified user token as `ctx.auth.getUserIdentity()` returns it. */
export type Identity = UserIdentity & Record<string, Value>;

/** Scheduling requests that functions make through `ctx.scheduler`. */
export type ScheduleRequest = {
  jobId: string;
  /** The component whose `_scheduled_functions` holds the job ("" for the app). */
  component: string;
  udfPath: string;
  args: Value;
  runAtMs: number;
};
