/**
 * Holds: a reply with `hold=NAME` stops before content piece `at` until a test releases NAME
 * (`POST /_sim/holds/NAME/release`), so "while it streams" is a state a test controls rather than a
 * race against the reply's pace. A release is remembered: a stream that reaches a released hold
 * later goes straight on.
 */
export class Holds {
  private readonly released = new Set<string>();
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves once `name` is released (at once if it already was); rejects when `signal` aborts. */
  wait(name: string, signal: AbortSignal): Promise<void> {
    if (this.released.has(name)) return Promise.resolve();
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const wakers = this.waiting.get(name) ?? new Set();
      this.waiting.set(name, wakers);
      const wake = () => {
        signal.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        wakers.delete(wake);
        if (wakers.size === 0) this.waiting.delete(name);
        reject(signal.reason as Error);
      };
      wakers.add(wake);
      signal.addEventListener("abort", abort, { once: true });
    });
  }

  /** Releases `name`; returns how many streams were waiting on it. */
  release(name: string): number {
    this.released.add(name);
    const wakers = [...(this.waiting.get(name) ?? [])];
    this.waiting.delete(name);
    for (const wake of wakers) wake();
    return wakers.length;
  }

  /** The holds streams are stopped at now, with how many streams wait on each (`GET /_sim/holds`). */
  list(): { name: string; waiting: number }[] {
    return [...this.waiting].map(([name, wakers]) => ({ name, waiting: wakers.size }));
  }

  /** Forgets every release; streams waiting now stay waiting. */
  reset(): void {
    this.released.clear();
  }
}
