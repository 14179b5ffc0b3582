"use node";

import type { Id } from "../../_generated/dataModel";
import type { ActionCtx } from "../../_generated/server";
import { internal } from "../../_generated/api";
import type { PartKind } from "../../../lib/reply-parts";
import { appErrorData } from "../../../lib/errors";
import { FlushPolicy } from "../flushPolicy";
import { AbortReason, describeError } from "./replyOutcome";
import type { UpstreamStart } from "./upstream";

/** The writer of a generation (scheduled actions carry no identity, so the owner comes along). */
export type WriterTarget = {
  ownerId: Id<"users">;
  messageId: Id<"messages">;
  generation: number;
  /** Which writer of the generation this is (background mode's reattach); unset: the first. */
  attempt?: number;
};

/** Where this writer picks up the generation's chunk log (a reattach; else the start). */
export type LogPosition = { nextSeq: number; part: number; partKind: PartKind };

/**
 * Writes one generation into the chunk log: numbers its parts (a new part whenever the kind of
 * text changes: thinking, a web search, the answer, its citations), batches the text through the flush policy into
 * appendStreamChunk (each batch one part, with the upstream event it reaches), records the
 * upstream start (startStreamingMessage) before the first append, and keeps the answer it stored.
 */
export class ReplyWriter {
  readonly flusher: FlushPolicy;
  /** This generation's answer as stored (refused batches excluded). */
  answer = "";
  private part: number;
  private kind: PartKind | null;
  private readonly kinds = new Map<number, PartKind>();
  private started: Promise<void> = Promise.resolve();
  private pushed = false;

  constructor(
    private readonly ctx: ActionCtx,
    private readonly target: WriterTarget,
    from: LogPosition | null,
    settings: { flushMs: number; flushTokens: number },
    controller: AbortController,
  ) {
    this.part = from?.part ?? 0;
    this.kind = from !== null && from.nextSeq > 0 ? from.partKind : null;
    if (this.kind !== null) this.kinds.set(this.part, this.kind);
    this.flusher = new FlushPolicy({
      ...settings,
      firstSeq: from?.nextSeq ?? 0,
      write: async ({ text, part, upstreamSeq }, seq) => {
        await this.started;
        const kind = this.kinds.get(part) ?? "text";
        const { outcome, shouldStop } = await ctx.runMutation(
          internal.chatStreaming.appendStreamChunk,
          {
            ...target,
            seq,
            text,
            part,
            kind,
            ...(upstreamSeq === undefined ? {} : { upstreamSeq }),
          },
        );
        if (outcome === "full") controller.abort(new AbortReason("full"));
        // After a stop the refused batch is not in the reply, so it must not count towards its tokens.
        const stored = outcome === "appended" || outcome === "duplicate";
        if (stored && kind === "text") this.answer += text;
        return { shouldStop, stored };
      },
      // A no-op when the request was already aborted for another reason (e.g. "full").
      onStop: () => controller.abort(new AbortReason("stop")),
    });
  }

  /** Whether any text was pushed (after that, a failed request is no longer retried). */
  get pushedAny(): boolean {
    return this.pushed;
  }

  /** The upstream stream was accepted: recorded before the first append goes out. */
  start(info: UpstreamStart): void {
    this.started = this.ctx
      .runMutation(internal.chatStreaming.startStreamingMessage, { ...this.target, ...info })
      .then(({ shouldStop }) => {
        if (shouldStop) this.flusher.stop();
      })
      .catch((error: unknown) => {
        if (appErrorData(error)?.code === "NotFound") this.flusher.stop();
        else console.warn(`startStreamingMessage failed: ${describeError(error)}`);
      });
  }

  /**
   * Adds text of kind `kind`; text of another kind than the last opens the next part, and so
   * does `opens` (a web search: each is a part of its own).
   */
  push(kind: PartKind, text: string, upstreamSeq?: number, opens = false): void {
    if (text.length === 0) return;
    if (this.kind === null) {
      this.kind = kind;
    } else if (kind !== this.kind || opens) {
      this.part += 1;
      this.kind = kind;
    }
    this.kinds.set(this.part, kind);
    this.pushed = true;
    this.flusher.push(text, this.part, upstreamSeq);
  }

  /** Writes what is left; call before finalizing. */
  async drain(): Promise<void> {
    await this.started;
    await this.flusher.drain();
  }
}
