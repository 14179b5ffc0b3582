/** What a write reports back: whether the writer should stop (stop pressed, reply superseded). */
export type FlushWriteResult = {
  shouldStop: boolean;
  /** False when the batch was refused because the reply had already ended: it is not part of the text. */
  stored?: boolean;
};

/**
 * One write: text of one part of the reply (lib/reply-parts.ts), and the upstream event sequence
 * number of its last token, when the model gives one.
 */
export type FlushBatch = { text: string; part: number; upstreamSeq?: number };

export type FlushPolicyOptions = {
  /** Longest a waiting token stays unwritten (default 50 ms). */
  flushMs: number;
  /** Waiting tokens that trigger a write before flushMs has passed (default 10). */
  flushTokens: number;
  /**
   * Persists one batch; `seq` counts batches from `firstSeq` and is reused when a failed write is
   * retried.
   */
  write: (batch: FlushBatch, seq: number) => Promise<FlushWriteResult>;
  /** The first batch's seq (default 0; a writer taking over a generation goes on from its log). */
  firstSeq?: number;
  /** Called once when a write says to stop or finally fails, e.g. to abort the upstream request. */
  onStop?: () => void;
  /** Attempts per batch before giving up (default 3); retries are safe because appends are idempotent per seq. */
  maxAttempts?: number;
  retryDelayMs?: number;
};

type Token = { text: string; part: number; upstreamSeq?: number };

/**
 * Batches streamed tokens into writes: the first token is written at once, and so is the first
 * token of each new part (the answer's first words never wait behind the thinking); after that a
 * batch is written when flushMs has passed since its oldest token or flushTokens are waiting,
 * whichever comes first, driven by a timer. A batch holds one part. At most one write is in
 * flight; tokens arriving meanwhile coalesce into the next batch. `drain()` writes whatever is
 * left.
 */
export class FlushPolicy {
  private buffer: Token[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private due = false;
  private nextSeq: number;
  /** The part of the last batch written, or null before the first. */
  private lastPart: number | null = null;
  private stopCalled = false;
  /** Text stored by successful writes, in order (refused batches excluded). */
  writtenText = "";
  /** Time of the last successful write (or of construction). */
  lastWriteAt = Date.now();
  /** True once a write said to stop or failed for good; later tokens are dropped. */
  stopped = false;
  /** The error of a write that failed for good, if any. */
  failure: unknown = null;

  constructor(private readonly options: FlushPolicyOptions) {
    this.nextSeq = options.firstSeq ?? 0;
  }

  /** Number of batches written (or being written) so far, by this policy. */
  get batches(): number {
    return this.nextSeq - (this.options.firstSeq ?? 0);
  }

  /** Whether a write is in flight or tokens are waiting. */
  get busy(): boolean {
    return this.inFlight !== null || this.buffer.length > 0;
  }

  /** Adds one streamed token of part `part`, the upstream event `upstreamSeq`'s. */
  push(token: string, part = 0, upstreamSeq?: number): void {
    if (this.stopped || token.length === 0) return;
    this.buffer.push({ text: token, part, ...(upstreamSeq === undefined ? {} : { upstreamSeq }) });
    const enough = this.buffer.length >= this.options.flushTokens;
    if (this.inFlight !== null) {
      if (enough || part !== this.lastPart) this.due = true;
      else this.armTimer();
      return;
    }
    if (part !== this.lastPart || enough) this.flushNow();
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
    const part = this.buffer[0]?.part;
    if (this.stopped || part === undefined) return;
    this.clearTimer();
    // The leading tokens of one part; the rest wait for the next write.
    let count = this.buffer.findIndex((token) => token.part !== part);
    if (count === -1) count = this.buffer.length;
    const tokens = this.buffer.slice(0, count);
    this.buffer = this.buffer.slice(count);
    this.due = false;
    this.lastPart = part;
    const upstreamSeq = tokens.at(-1)?.upstreamSeq;
    const batch: FlushBatch = {
      text: tokens.map((token) => token.text).join(""),
      part,
      ...(upstreamSeq === undefined ? {} : { upstreamSeq }),
    };
    const seq = this.nextSeq++;
    this.inFlight = this.writeWithRetry(batch, seq).finally(() => {
      this.inFlight = null;
      this.afterWrite();
    });
  }

  private afterWrite(): void {
    if (this.stopped || this.buffer.length === 0) return;
    const newPart = this.buffer[0]?.part !== this.lastPart;
    if (this.due || newPart || this.buffer.length >= this.options.flushTokens) this.flushNow();
    else this.armTimer();
  }

  private async writeWithRetry(batch: FlushBatch, seq: number): Promise<void> {
    const attempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.write(batch, seq);
        if (result.stored !== false) this.writtenText += batch.text;
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
