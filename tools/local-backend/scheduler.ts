import { existsSync, readFileSync } from "node:fs";
import { clearTimeout, setTimeout } from "node:timers";
import type { Value } from "convex/values";
import { detached } from "./call-context";
import type { Engine } from "./engine";
import type { ScheduleRequest } from "./engine-types";
import { documentKey } from "./read-set";
import { writeFileAtomic } from "./store";

// Timers come from node:timers: convex-test makes the global setTimeout throw inside mutations,
// and jobs are scheduled from inside them.

// setTimeout cannot wait longer than ~24.8 days; longer waits re-arm.
const MAX_TIMER_MS = 2 ** 31 - 1;

type Host = { engine: () => Engine; log: (line: string) => void };

function stateOf(job: Record<string, Value>): string | undefined {
  return (job.state as { kind?: string }).kind;
}

/** Runs the jobs functions schedule with `ctx.scheduler`, also those pending at startup. */
export class JobScheduler {
  /** Timers by `documentKey` of the job (components have jobs of their own). */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly host: Host) {}

  schedule(request: ScheduleRequest): void {
    if (this.closed) return;
    this.arm(request.component, request.jobId, request.runAtMs);
  }

  private arm(component: string, jobId: string, runAtMs: number): void {
    const key = documentKey(component, jobId);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const delay = Math.max(0, runAtMs - Date.now());
    const timer = detached(() =>
      setTimeout(
        () => {
          this.timers.delete(key);
          if (delay > MAX_TIMER_MS) this.arm(component, jobId, runAtMs);
          else void this.run(component, jobId);
        },
        Math.min(delay, MAX_TIMER_MS),
      ),
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  private job(component: string, jobId: string): Record<string, Value> | undefined {
    return this.host
      .engine()
      .documentsOf("_scheduled_functions", component)
      .find((doc) => doc._id === jobId);
  }

  private async run(component: string, jobId: string): Promise<void> {
    if (this.closed) return;
    try {
      const engine = this.host.engine();
      const job = this.job(component, jobId);
      // Not there: the scheduling mutation rolled back. Not pending: canceled or already run.
      if (job === undefined || stateOf(job) !== "pending") return;
      // A job may run a function of another component (a function handle, `components.…`).
      const target = engine.jobTarget(component, jobId);
      // A mutation goes from pending to success in its own commit (see Engine.callAsSystem); an
      // action is in progress while it runs.
      const isMutation = engine.functionInfo(job.name as string, target)?.kind === "mutation";
      if (!isMutation) {
        await engine.systemPatch(jobId, { state: { kind: "inProgress" } }, component);
      }
      const args = ((job.args as Value[])[0] ?? {}) as Record<string, Value>;
      const outcome = await engine.callAsSystem(
        job.name as string,
        args,
        { id: jobId, component },
        target,
      );
      if (this.closed) return;
      // Canceled while it ran (or already marked by the mutation's commit): that state stands.
      const now = this.job(component, jobId);
      const state = now === undefined ? undefined : stateOf(now);
      if (state !== "pending" && state !== "inProgress") return;
      await engine.systemPatch(
        jobId,
        {
          state: outcome.ok ? { kind: "success" } : { kind: "failed", error: outcome.errorMessage },
          completedTime: Date.now(),
        },
        component,
      );
    } catch (error) {
      this.host.log(
        `scheduler: job ${documentKey(component, jobId)} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
    }
  }

  /** Arms timers for the jobs a previous run left pending, in the app and every component. */
  async resume(): Promise<void> {
    const engine = this.host.engine();
    for (const component of engine.componentPaths()) {
      for (const job of engine.documentsOf("_scheduled_functions", component)) {
        const kind = (job.state as { kind?: string }).kind;
        const jobId = job._id as string;
        if (kind === "pending") this.arm(component, jobId, job.scheduledTime as number);
        if (kind !== "inProgress") continue;
        // Interrupted by a crash: a mutation never committed, so it runs again; an action may
        // have had side effects, so, like Convex, it is not retried.
        const info = engine.functionInfo(job.name as string, engine.jobTarget(component, jobId));
        if (info?.kind === "mutation") {
          await engine.systemPatch(jobId, { state: { kind: "pending" } }, component);
          this.arm(component, jobId, Date.now());
        } else {
          await engine.systemPatch(
            jobId,
            {
              state: { kind: "failed", error: "Interrupted by a restart of the local backend" },
              completedTime: Date.now(),
            },
            component,
          );
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

type CronSchedule =
  | { type: "interval"; seconds?: number; minutes?: number; hours?: number }
  | { type: "hourly"; minuteUTC?: number }
  | { type: "daily"; hourUTC: number; minuteUTC?: number }
  | { type: "weekly"; dayOfWeek: string; hourUTC: number; minuteUTC?: number }
  | { type: "monthly"; day: number; hourUTC: number; minuteUTC?: number }
  | { type: "cron"; cron: string };
type CronJob = { name: string; args: Value[]; schedule: CronSchedule };
/** A cron job of the app's or a component's crons.ts, and which component runs it. */
type ComponentCronJob = CronJob & { component: string };

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function parseCronField(field: string, min: number, max: number): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(",")) {
    const [range = "*", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let [lo, hi] = [min, max];
    if (range !== "*") {
      const [a, b] = range.split("-");
      lo = Number(a);
      hi = b === undefined ? (stepText === undefined ? lo : max) : Number(b);
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(step) || step < 1) {
      throw new Error(`Invalid cron field "${field}"`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

/** The first minute after `afterMs` that matches a 5-field cron expression (UTC). */
export function nextCronTime(expression: string, afterMs: number): number {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`Cron expression must have 5 fields: "${expression}"`);
  const [minute, hour, dom, month, dow] = [
    parseCronField(fields[0]!, 0, 59),
    parseCronField(fields[1]!, 0, 23),
    parseCronField(fields[2]!, 1, 31),
    parseCronField(fields[3]!, 1, 12),
    new Set([...parseCronField(fields[4]!, 0, 7)].map((d) => d % 7)),
  ];
  const domAny = fields[2] === "*";
  const dowAny = fields[4] === "*";
  const t = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
  for (let i = 0; i < 366 * 24 * 60; i++) {
    const dayMatches =
      domAny || dowAny
        ? dom.has(t.getUTCDate()) && dow.has(t.getUTCDay())
        : dom.has(t.getUTCDate()) || dow.has(t.getUTCDay());
    if (
      minute.has(t.getUTCMinutes()) &&
      hour.has(t.getUTCHours()) &&
      month.has(t.getUTCMonth() + 1) &&
      dayMatches
    ) {
      return t.getTime();
    }
    t.setTime(t.getTime() + 60_000);
  }
  throw new Error(`Cron expression never matches: "${expression}"`);
}

/** When a cron job runs next after `afterMs` (or after its last run for intervals). */
export function nextRunTime(schedule: CronSchedule, afterMs: number): number {
  switch (schedule.type) {
    case "interval": {
      const seconds =
        schedule.seconds ?? (schedule.minutes ?? 0) * 60 + (schedule.hours ?? 0) * 3600;
      return afterMs + seconds * 1000;
    }
    case "hourly":
      return nextCronTime(`${schedule.minuteUTC ?? 0} * * * *`, afterMs);
    case "daily":
      return nextCronTime(`${schedule.minuteUTC ?? 0} ${schedule.hourUTC} * * *`, afterMs);
    case "weekly": {
      const day = DAYS.indexOf(schedule.dayOfWeek.toLowerCase());
      return nextCronTime(`${schedule.minuteUTC ?? 0} ${schedule.hourUTC} * * ${day}`, afterMs);
    }
    case "monthly":
      return nextCronTime(
        `${schedule.minuteUTC ?? 0} ${schedule.hourUTC} ${schedule.day} * *`,
        afterMs,
      );
    case "cron":
      return nextCronTime(schedule.cron, afterMs);
  }
}

type CronState = Record<string, { nextRunMs: number; lastRunMs: number | null }>;

/**
 * Runs the jobs of `convex/crons.ts` and of the components' crons.ts (named "<component>/<name>");
 * next run times survive restarts in `crons.json`.
 */
export class CronRunner {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private state: CronState = {};
  private closed = false;

  constructor(
    private readonly host: Host,
    private readonly statePath: string | null,
  ) {
    if (statePath && existsSync(statePath)) {
      this.state = JSON.parse(readFileSync(statePath, "utf8")) as CronState;
    }
  }

  private jobs(): Record<string, ComponentCronJob> {
    const engine = this.host.engine();
    const jobs: Record<string, ComponentCronJob> = {};
    for (const component of engine.componentPaths()) {
      const crons = engine.moduleDefault("crons", component) as
        { isCrons?: boolean; crons?: Record<string, CronJob> } | undefined;
      if (!crons?.isCrons) continue;
      for (const [name, job] of Object.entries(crons.crons ?? {})) {
        jobs[documentKey(component, name)] = { ...job, component };
      }
    }
    return jobs;
  }

  /** (Re)arms every cron job of the currently loaded code. */
  start(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const now = Date.now();
    const jobs = this.jobs();
    for (const [name, job] of Object.entries(jobs)) {
      const known = this.state[name];
      const nextRunMs = known?.nextRunMs ?? nextRunTime(job.schedule, now);
      this.state[name] = { nextRunMs, lastRunMs: known?.lastRunMs ?? null };
      this.arm(name, nextRunMs);
    }
    for (const name of Object.keys(this.state)) if (!(name in jobs)) delete this.state[name];
    this.save();
  }

  private arm(name: string, atMs: number): void {
    const timer = detached(() =>
      setTimeout(
        () => {
          this.fire(name).catch((error: unknown) => {
            this.host.log(
              `cron "${name}": ${error instanceof Error ? error.stack : String(error)}`,
            );
          });
        },
        Math.min(MAX_TIMER_MS, Math.max(0, atMs - Date.now())),
      ),
    );
    timer.unref();
    this.timers.set(name, timer);
  }

  private async fire(name: string): Promise<void> {
    const job = this.jobs()[name];
    const entry = this.state[name];
    if (this.closed || job === undefined || entry === undefined) return;
    if (entry.nextRunMs > Date.now()) {
      this.arm(name, entry.nextRunMs);
      return;
    }
    const startedMs = Date.now();
    entry.lastRunMs = startedMs;
    entry.nextRunMs = nextRunTime(
      job.schedule,
      job.schedule.type === "interval" ? startedMs : startedMs,
    );
    this.save();
    this.arm(name, entry.nextRunMs);
    const outcome = await this.host
      .engine()
      .callAsSystem(job.name, (job.args[0] ?? {}) as Record<string, Value>, {}, job.component);
    if (!outcome.ok) this.host.log(`cron "${name}" failed: ${outcome.errorMessage}`);
  }

  private save(): void {
    if (this.statePath) writeFileAtomic(this.statePath, JSON.stringify(this.state, null, 2));
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
