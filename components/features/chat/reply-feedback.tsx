"use client";

import { useMutation, useQuery } from "convex/react";
import { useId, useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { ThumbDownIcon, ThumbUpIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { MAX_FEEDBACK_COMMENT_CHARS } from "@/lib/chat-limits";
import { errorMessage } from "@/lib/errors";
import { cn } from "@/lib/utils";

type Rating = "up" | "down";

const RATINGS: { rating: Rating; label: string; question: string; Icon: typeof ThumbUpIcon }[] = [
  { rating: "up", label: "Good reply", question: "What was good about it?", Icon: ThumbUpIcon },
  { rating: "down", label: "Bad reply", question: "What went wrong?", Icon: ThumbDownIcon },
];

/**
 * Thumbs up and down on a finished reply (kept per reply for the deployment's operators): a click
 * records the rating at once and offers an optional comment; clicking the chosen thumb again takes
 * the rating back. Laid out in the reply's small print, the comment box on a line of its own.
 */
export function ReplyFeedback({ messageId }: { messageId: Id<"messages"> }) {
  const current = useQuery(api.feedback.forReply, { messageId });
  const rate = useMutation(api.feedback.rate).withOptimisticUpdate((store, args) => {
    const query = { messageId: args.messageId };
    const stored = store.getQuery(api.feedback.forReply, query);
    const comment = args.comment ?? stored?.comment;
    store.setQuery(
      api.feedback.forReply,
      query,
      args.rating === null
        ? null
        : { rating: args.rating, ...(comment ? { comment: comment.trim() } : {}) },
    );
  });
  const [commenting, setCommenting] = useState<Rating | null>(null);
  const [thanked, setThanked] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function send(rating: Rating | null, comment?: string) {
    setError(null);
    try {
      await rate({ messageId, rating, ...(comment === undefined ? {} : { comment }) });
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    }
  }

  function choose(rating: Rating) {
    const next = current?.rating === rating ? null : rating;
    setThanked(false);
    setCommenting(next);
    void send(next);
  }

  return (
    <>
      <span className="inline-flex items-center" role="group" aria-label="Rate this reply">
        {RATINGS.map(({ rating, label, Icon }) => {
          const chosen = current?.rating === rating;
          return (
            <button
              key={rating}
              type="button"
              data-testid={`thumbs-${rating}`}
              aria-label={label}
              title={label}
              aria-pressed={chosen}
              disabled={current === undefined}
              onClick={() => choose(rating)}
              className={cn(
                "inline-flex size-6 cursor-pointer items-center justify-center rounded hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500",
                chosen && "text-foreground",
              )}
            >
              <Icon className="size-3.5" fill={chosen ? "currentColor" : "none"} />
            </button>
          );
        })}
      </span>
      {thanked && (
        <span role="status" data-testid="feedback-thanks">
          Thanks for your feedback.
        </span>
      )}
      {commenting && (
        <CommentForm
          question={RATINGS.find((r) => r.rating === commenting)!.question}
          initial={current?.comment ?? ""}
          onSubmit={async (comment) => {
            if (await send(commenting, comment)) {
              setCommenting(null);
              setThanked(true);
            }
          }}
          onClose={() => setCommenting(null)}
        />
      )}
      {error && (
        <span role="alert" className="basis-full text-red-600 dark:text-red-400">
          {error}
        </span>
      )}
    </>
  );
}

function CommentForm({
  question,
  initial,
  onSubmit,
  onClose,
}: {
  question: string;
  initial: string;
  onSubmit: (comment: string) => Promise<void>;
  onClose: () => void;
}) {
  const id = useId();
  const [sending, setSending] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSending(true);
    await onSubmit(String(new FormData(event.currentTarget).get("comment") ?? ""));
    setSending(false);
  }

  return (
    <form
      data-testid="feedback-form"
      onSubmit={(e) => void submit(e)}
      className="mt-1 flex basis-full flex-col gap-2 rounded-lg border border-border p-3 text-sm text-foreground"
    >
      <label htmlFor={id} className="font-medium">
        {question} <span className="font-normal text-muted-foreground">(optional)</span>
      </label>
      <textarea
        id={id}
        name="comment"
        data-testid="feedback-comment"
        rows={2}
        autoFocus
        defaultValue={initial}
        maxLength={MAX_FEEDBACK_COMMENT_CHARS}
        onKeyDown={(e) => {
          if (e.key === "Escape") onClose();
        }}
        className="w-full resize-y rounded-md border border-input bg-background px-2 py-1.5 outline-none focus:ring-2 focus:ring-blue-500/30"
      />
      <div className="flex justify-end gap-2">
        <Button variant="ghost" size="sm" onClick={onClose} data-testid="feedback-close">
          Close
        </Button>
        <Button type="submit" size="sm" disabled={sending} data-testid="feedback-send">
          Send feedback
        </Button>
      </div>
    </form>
  );
}
