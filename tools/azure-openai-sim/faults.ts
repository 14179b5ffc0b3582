/** Faults queued through the control API, and the directive faults each conversation has spent. */
import type { SimControls, SimFault } from "./directives";

/** Queued controls and spent counters of one simulator. */
export class FaultQueue {
  private readonly queue: { controls: SimControls; remaining: number }[] = [];
  private readonly spent = new Map<string, number>();

  /** The queue as `GET /_sim/faults` shows it. */
  list(): readonly { controls: SimControls; remaining: number }[] {
    return this.queue;
  }

  /** Applies `controls` to the next `controls.times` (default 1) chat requests. */
  push(controls: SimControls): void {
    this.queue.push({ controls, remaining: controls.times ?? 1 });
  }

  /** Forgets queued controls and spent counters. */
  reset(): void {
    this.queue.length = 0;
    this.spent.clear();
  }

  /** The controls queued for this request, if any. */
  take(): SimControls | null {
    const head = this.queue[0];
    if (!head) return null;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head.controls;
  }

  /** True (and counted) while `key` has faulted fewer than `times` times. */
  spend(key: string, times = 1): boolean {
    const used = this.spent.get(key) ?? 0;
    if (used >= times) return false;
    this.spent.set(key, used + 1);
    return true;
  }
}

/** Faults that strike after the stream started. */
export function isMidStreamFault(fault: SimFault | null): boolean {
  return (
    fault === "filter-stream" ||
    fault === "error-event" ||
    fault === "rate-limit-event" ||
    fault === "disconnect" ||
    fault === "end-without-done" ||
    fault === "stall" ||
    fault === "malformed"
  );
}

/** Default filter mode: text is released in bursts of a few pieces; returns the indexes that open a burst. */
