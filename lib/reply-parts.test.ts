import { describe, expect, test } from "vitest";
import {
  absorbNewest,
  absorbSpan,
  emptyLiveText,
  missingRange,
  shownParts,
  shownText,
  shownThinking,
  type ChunkSpan,
} from "./live-text";
import {
  absorbRuns,
  finishedParts,
  joinRuns,
  replyParts,
  storeParts,
  thinkingOf,
  type RunText,
} from "./reply-parts";

describe("a reply's parts as a message stores them", () => {
  test("a reply stored before parts existed is one text part, its content", () => {
    expect(replyParts({ content: "Hello" })).toEqual([{ kind: "text", text: "Hello" }]);
    expect(replyParts({ content: "" })).toEqual([]);
    expect(
      storeParts([
        { kind: "text", text: "Hel" },
        { kind: "text", text: "lo" },
      ]),
    ).toEqual({
      content: "Hello",
    });
  });

  test("thinking and answer round-trip: the answer is content, text parts are its lengths", () => {
    const parts = [
      { kind: "reasoning" as const, text: "**Plan**", durationMs: 1200 },
      { kind: "text" as const, text: "Partial " },
      { kind: "reasoning" as const, text: "Again", durationMs: 300 },
      { kind: "text" as const, text: "answer." },
    ];
    const stored = storeParts(parts);
    expect(stored).toEqual({
      content: "Partial answer.",
      parts: [
        { kind: "reasoning", text: "**Plan**", durationMs: 1200 },
        { kind: "text", length: 8 },
        { kind: "reasoning", text: "Again", durationMs: 300 },
        { kind: "text", length: 7 },
      ],
    });
    expect(replyParts(stored)).toEqual(parts);
    expect(thinkingOf(parts)).toEqual({ text: "**Plan**\n\nAgain", durationMs: 1500 });
    expect(thinkingOf([{ kind: "text", text: "x" }])).toBeNull();
  });
});

describe("the chunk log's runs", () => {
  const chunk = (text: string, part = 0, kind?: "reasoning" | "text", at?: number): RunText =>
    part === 0 && kind === undefined
      ? { text }
      : { text, runs: [{ part, length: text.length, ...(kind ? { kind, at } : {}) }] };

  test("a text-only log says nothing about parts, as before them", () => {
    expect(joinRuns([chunk("a"), chunk("bc")])).toEqual({ text: "abc" });
  });

  test("joined chunks keep their parts and openings; read back they are the parts in order", () => {
    const log = joinRuns([
      chunk("Think", 0, "reasoning", 10),
      chunk("ing", 0),
      chunk("Ans", 1, "text", 50),
      chunk("wer", 1),
    ]);
    expect(log).toEqual({
      text: "ThinkingAnswer",
      runs: [
        { part: 0, length: 8, kind: "reasoning", at: 10 },
        { part: 1, length: 6, kind: "text", at: 50 },
      ],
    });
    expect(absorbRuns([], log)).toEqual([
      { kind: "reasoning", text: "Thinking", at: 10 },
      { kind: "text", text: "Answer", at: 50 },
    ]);
    // A piece from the middle of a part (no opening in it) continues the part already read.
    const tail = joinRuns([chunk(" more", 1)]);
    expect(absorbRuns(absorbRuns([], log), tail).at(-1)).toEqual({
      kind: "text",
      text: "Answer more",
      at: 50,
    });
  });

  test("a reasoning part lasts from the request (first part) or its opening to the next part's", () => {
    const parts = finishedParts(
      [
        { kind: "reasoning", text: "a", at: 1_000 },
        { kind: "text", text: "b", at: 15_000 },
      ],
      { startedAt: 500, endedAt: 20_000 },
    );
    expect(parts).toEqual([
      { kind: "reasoning", text: "a", durationMs: 14_500 },
      { kind: "text", text: "b" },
    ]);
    // Still thinking when it ended (stopped mid-thinking): until the end.
    expect(
      finishedParts([{ kind: "reasoning", text: "a" }], { startedAt: 0, endedAt: 3_000 }),
    ).toEqual([{ kind: "reasoning", text: "a", durationMs: 3_000 }]);
  });
});

describe("following a reply made of parts", () => {
  const message = {
    _id: "m",
    role: "assistant" as const,
    status: "pending" as const,
    content: "",
    generation: 0,
    reasoningEffort: "medium",
    timings: { requestedAt: 1_000 },
  };

  test("the newest chunks and a missed range join into thinking then answer, exactly", () => {
    let state = emptyLiveText("m:0");
    state = absorbNewest(state, { seq: 0, text: "**Plan**", kind: "reasoning", at: 2_000 });
    expect(shownThinking(message, state.parts)).toEqual({
      text: "**Plan**",
      active: true,
      durationMs: null,
    });
    // Chunks 1 and 2 were coalesced away: the viewer sees 3 and asks for the range before it.
    state = absorbNewest(state, { seq: 3, text: "wer", part: 1 });
    expect(missingRange(state, 3)).toEqual({ from: 1, to: 3 });
    const range: ChunkSpan = {
      from: 1,
      to: 3,
      text: " done.Ans",
      runs: [
        { part: 0, length: 6 },
        { part: 1, length: 3, kind: "text", at: 15_000 },
      ],
    };
    state = absorbSpan(state, range);
    expect(shownParts(message, state.parts)).toEqual([
      { kind: "reasoning", text: "**Plan** done." },
      { kind: "text", text: "Answer" },
    ]);
    expect(shownText(message, state.parts)).toBe("Answer");
    // The answer began: the thinking folds, having taken from the request to the answer.
    expect(shownThinking(message, state.parts)).toEqual({
      text: "**Plan** done.",
      active: false,
      durationMs: 14_000,
    });
  });

  test("a reasoning reply that has written nothing yet is thinking; a plain one shows none", () => {
    expect(shownThinking(message, [])).toEqual({ text: "", active: true, durationMs: null });
    expect(shownThinking({ ...message, reasoningEffort: undefined }, [])).toBeNull();
  });

  test("once final, the stored parts are shown; a continue's live parts follow them", () => {
    const stored = {
      ...message,
      content: "Part one. ",
      parts: [
        { kind: "reasoning" as const, text: "First", durationMs: 4_000 },
        { kind: "text" as const, length: 10 },
      ],
    };
    expect(shownThinking({ ...stored, status: "complete" }, [])).toEqual({
      text: "First",
      active: false,
      durationMs: 4_000,
    });
    const live = [{ kind: "reasoning" as const, text: "Second" }];
    expect(shownParts(stored, live).map((p) => p.kind)).toEqual(["reasoning", "text", "reasoning"]);
    expect(shownThinking(stored, live)).toEqual({
      text: "First\n\nSecond",
      active: true,
      durationMs: null,
    });
  });
});
