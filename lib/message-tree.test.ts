import { describe, expect, test } from "vitest";
import type { ChatMessage } from "@/lib/chat-types";
import { visiblePath } from "./message-tree";

let clock = 0;
function message(id: string, parentId: string | null | undefined, role: "user" | "assistant") {
  clock += 1;
  return {
    _id: id,
    _creationTime: clock,
    sessionId: "s",
    role,
    content: id,
    status: "complete",
    isStreaming: false,
    generation: 0,
    ...(parentId === undefined ? {} : { parentId }),
  } as unknown as ChatMessage;
}

// Q1 -> A1 -> Q2 -> A2, then Q2 edited (Q2b -> A2b), then A1 regenerated (A1b): oldest first.
const chat = [
  message("Q1", null, "user"),
  message("A1", "Q1", "assistant"),
  message("Q2", "A1", "user"),
  message("A2", "Q2", "assistant"),
  message("Q2b", "A1", "user"),
  message("A2b", "Q2b", "assistant"),
  message("A1b", "Q1", "assistant"),
];
const newestFirst = [...chat].reverse();
const ids = (path: { messages: ChatMessage[] }) => path.messages.map((m) => m._id);

describe("visiblePath", () => {
  test("walks up from the selected leaf and numbers each message's versions", () => {
    const path = visiblePath(newestFirst, "A2", true);
    expect(ids(path)).toEqual(["Q1", "A1", "Q2", "A2"]);
    expect(path.versions.get("A1")).toEqual({
      index: 0,
      count: 2,
      previousId: null,
      nextId: "A1b",
    });
    expect(path.versions.get("Q2")).toEqual({
      index: 0,
      count: 2,
      previousId: null,
      nextId: "Q2b",
    });
    expect(path.versions.has("Q1")).toBe(false);
    expect(ids(visiblePath(newestFirst, "A2b", true))).toEqual(["Q1", "A1", "Q2b", "A2b"]);
  });

  test("without a selection shows the newest message's branch", () => {
    expect(ids(visiblePath(newestFirst, null, true))).toEqual(["Q1", "A1b"]);
  });

  test("shows a message only once all its versions can be loaded", () => {
    // The newest 4 only: A1 is missing, so Q2b (whose sibling Q2 is loaded, but not its parent) hides.
    const partial = newestFirst.slice(0, 4);
    expect(ids(visiblePath(partial, "A2b", false))).toEqual(["A2b"]);
    // A first message shows only when the whole chat is loaded (older first versions may exist).
    expect(ids(visiblePath(newestFirst, "A2", false))).toEqual(["A1", "Q2", "A2"]);
  });

  test("asks for older pages when the selected leaf is not loaded", () => {
    expect(visiblePath(newestFirst.slice(0, 2), "A2", false)).toMatchObject({
      messages: [],
      leafMissing: true,
    });
  });

  test("messages written before versions follow the message before them", () => {
    const old = [message("o1", undefined, "user"), message("o2", undefined, "assistant")];
    const next = message("n1", "o2", "user");
    const again = message("o2b", "o1", "assistant");
    const all = [again, next, ...[...old].reverse()];
    const path = visiblePath(all, "n1", true);
    expect(ids(path)).toEqual(["o1", "o2", "n1"]);
    expect(path.versions.get("o2")).toMatchObject({ index: 0, count: 2, nextId: "o2b" });
    expect(ids(visiblePath(all.slice(0, 3), "n1", false))).toEqual(["n1"]);
  });
});
