/** What a write reports back: whether the writer should stop (stop pressed, reply superseded). */
export type FlushWriteResult = {
  shouldStop: boolean;
  /** False when the batch was refused because the reply had already ended: it is not part of the text. */
  stored?: boolean;
};

export type FlushPolicyOptions = {
  /** Longest a waiting token stays unwritten (default 50 ms). */
  flushMs: number;
  /** Waiting tokens that trigger a write before flushMs has passed (default 10). */
  flushTokens: number;
  /** Persists one batch; `seq` counts batches from 0 and is reused when a failed write is retried. */
  write: (text: string, seq: number) => Promise<FlushWriteResult>;
  /** Called once when a write says to stop or finally fails, e.g. to abort the upstream request. */
  onStop?: () => void;
  /** Attempts per batch before giving up (default 3); retries are safe because appends are idempotent per seq. */
  maxAttempts?: number;
  retryDelayMs?: number;
};

/**
 * Batches streamed tokens into writes: the first token is written at once; after that a batch is
 * written when flushMs has passed since its oldest token or flushTokens are waiting, whichever
 * comes first, driven by a timer. At most one write is in flight; tokens arriving meanwhile
 * coalesce into the next batch. `drain()` writes whatever is left.
 */
export class FlushPolicy {
  private buffer: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private due = false;
  private nextSeq = 0;
  private stopCalled = false;
  /** Text stored by successful writes, in order (refused batches excluded). */
  writtenText = "";
  /** Time of the last successful write (or of construction). */
  lastWriteAt = Date.now();
  /** True once a write said to stop or failed for good; later tokens are dropped. */
  stopped = false;
  /** The error of a write that failed for good, if any. */
  failure: unknown = null;

  constructor(private readonly options: FlushPolicyOptions) {}

  /** Number of batches written (or being written) so far. */
  get batches(): number {
    return this.nextSeq;
  }

  /** Whether a write is in flight or tokens are waiting. */
  get busy(): boolean {
    return this.inFlight !== null || this.buffer.length > 0;
  }

  /** Adds one streamed token. */
  push(token: string): void {
    if (this.stopped || token.length === 0) return;
    this.buffer.push(token);
    const enough = this.buffer.length >= this.options.flushTokens;
    if (this.inFlight !== null) {
      if (enough) this.due = true;
      else this.armTimer();
      return;
    }
    if (this.nextSeq === 0 || enough) this.flushNow();
    else this.armTimer();
  }

  /** Marks the writer stopped (e.g. a heartbeat said so): buffered and later tokens are dropped. */
  stop(): void {
    this.stopped = true;
    this.buffer = [];
    this.clearTimer();
    if (!this.stopCalled) {
      this.stopCalled = true;
      this.options.onStop?.();
    }
  }

  /** Writes everything still buffered and waits for all writes; call before finalizing. */
  async drain(): Promise<void> {
    this.clearTimer();
    while (this.inFlight !== null || (this.buffer.length > 0 && !this.stopped)) {
      if (this.inFlight === null) this.flushNow();
      await this.inFlight;
    }
    this.clearTimer();
  }

  private armTimer(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.inFlight !== null) this.due = true;
      else if (this.buffer.length > 0) this.flushNow();
    }, this.options.flushMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private flushNow(): void {
    if (this.stopped || this.buffer.length === 0) return;
    this.clearTimer();
    const text = this.buffer.join("");
    this.buffer = [];
    this.due = false;
    const seq = this.nextSeq++;
    this.inFlight = this.writeWithRetry(text, seq).finally(() => {
      this.inFlight = null;
      this.afterWrite();
    });
  }

  private afterWrite(): void {
    if (this.stopped || this.buffer.length === 0) return;
    if (this.due || this.buffer.length >= this.options.flushTokens) this.flushNow();
    else this.armTimer();
  }

  private async writeWithRetry(text: string, seq: number): Promise<void> {
    const attempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.write(text, seq);
        if (result.stored !== false) this.writtenText += text;
        this.lastWriteAt = Date.now();
        if (result.shouldStop) this.stop();
        return;
      } catch (error) {
        if (attempt >= attempts || this.stopped) {
          this.failure = error;
          this.stop();
          return;
        }
        await new Promise((resolve) =>
          setTimeout(resolve, (this.options.retryDelayMs ?? 100) * attempt),
        );
      }
    }
  }
}
