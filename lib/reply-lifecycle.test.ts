import { describe, expect, test } from "vitest";
import { REPLY_FULL_FINISH_REASON } from "./chat-limits";
import {
  canContinue,
  canRegenerate,
  canRetry,
  isLengthCut,
  isLive,
  lifecycleFields,
  showsTypingIndicator,
  stoppableReply,
  type LifecycleMessage,
  type MessageStatus,
} from "./reply-lifecycle";

type Row = {
  case: string;
  message: LifecycleMessage;
  text: string;
  live: boolean;
  continue: boolean;
  retry: boolean;
  regenerate: boolean;
};

const reply = (status: MessageStatus, finishReason?: string): LifecycleMessage => ({
  role: "assistant",
  status,
  ...(finishReason === undefined ? {} : { finishReason }),
});

// prettier-ignore
const table: Row[] = [
  { case: "a reply being written",             message: reply("pending"),                           text: "Hel", live: true,  continue: false, retry: false, regenerate: false },
  { case: "a finished reply",                  message: reply("complete", "stop"),                  text: "Hi.", live: false, continue: false, retry: false, regenerate: true },
  { case: "a reply cut at max_tokens",         message: reply("complete", "length"),                text: "Hi",  live: false, continue: true,  retry: false, regenerate: true },
  { case: "a reply at the longest a reply can be", message: reply("complete", REPLY_FULL_FINISH_REASON), text: "x", live: false, continue: false, retry: false, regenerate: true },
  { case: "a stopped reply",                   message: reply("stopped"),                           text: "Hi",  live: false, continue: true,  retry: false, regenerate: true },
  { case: "a stopped reply without text",      message: reply("stopped"),                           text: "",    live: false, continue: true,  retry: false, regenerate: true },
  { case: "an interrupted reply",              message: reply("interrupted"),                       text: "Hi",  live: false, continue: true,  retry: false, regenerate: true },
  { case: "a reply that failed after text",    message: reply("error"),                             text: "Hi",  live: false, continue: true,  retry: true,  regenerate: false },
  { case: "a reply that failed before any text", message: reply("error"),                           text: "",    live: false, continue: false, retry: true,  regenerate: false },
  { case: "a reply the content filter stopped", message: reply("error", "content_filter"),          text: "Hi",  live: false, continue: true,  retry: true,  regenerate: false },
  { case: "a user message",                    message: { role: "user", status: "complete" },       text: "Q",   live: false, continue: false, retry: false, regenerate: false },
  { case: "a user message not stored yet",     message: { role: "user", status: "pending" },        text: "Q",   live: false, continue: false, retry: false, regenerate: false },
];

describe("the reply lifecycle", () => {
  test.each(table)("$case", (row) => {
    expect({
      live: isLive(row.message),
      continue: canContinue(row.message, row.text),
      retry: canRetry(row.message),
      regenerate: canRegenerate(row.message),
      typing: showsTypingIndicator(row.message),
    }).toEqual({
      live: row.live,
      continue: row.continue,
      retry: row.retry,
      regenerate: row.regenerate,
      typing: row.live,
    });
  });

  test("the stored isStreaming flag is true exactly while a reply is live", () => {
    for (const row of table) {
      expect(lifecycleFields(row.message.role, row.message.status)).toEqual({
        status: row.message.status,
        isStreaming: row.live,
      });
    }
  });

  test("only a reply cut at max_tokens says it was cut at the length limit", () => {
    expect(table.filter((row) => isLengthCut(row.message)).map((row) => row.case)).toEqual([
      "a reply cut at max_tokens",
    ]);
  });

  test("Stop targets the reply being written, and nothing when none is", () => {
    const live = { ...reply("pending"), id: "b" };
    const messages = [
      { ...reply("complete"), id: "a" },
      live,
      { role: "user" as const, status: "pending" as const, id: "c" },
    ];
    expect(stoppableReply(messages)).toBe(live);
    expect(stoppableReply(messages.filter((m) => m !== live))).toBeUndefined();
  });
});
