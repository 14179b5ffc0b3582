import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import { useOutbox } from "@/components/hooks/use-outbox";
import type { SendResult } from "@/components/hooks/use-send-message";

// The send mutation, held until the test settles it.
type Call = { text: string; clientRequestId?: string; settle: (result: SendResult) => void };
const calls: Call[] = [];
vi.mock("@/components/hooks/use-send-message", () => {
  const send = (_: string, text: string, options: { clientRequestId?: string } = {}) =>
    new Promise<SendResult>((settle) => {
      calls.push({ text, clientRequestId: options.clientRequestId, settle });
    });
  return { useSendMessage: () => send };
});

const chat = "chat-1" as Id<"sessions">;

function mount(replying: boolean) {
  return renderHook(({ replying }) => useOutbox(chat, replying), {
    initialProps: { replying },
  });
}

async function settle(index: number, result: SendResult = { ok: true }) {
  await act(async () => calls[index]!.settle(result));
}

beforeEach(() => {
  calls.length = 0;
  sessionStorage.clear();
});
afterEach(cleanup);

describe("the outbox", () => {
  it("holds messages typed while a reply streams and sends them once each, in order, one reply at a time", async () => {
    const { result, rerender } = mount(true);
    act(() => result.current.enqueue("first"));
    act(() => result.current.enqueue("second"));
    expect(result.current.queued.map((m) => m.text)).toEqual(["first", "second"]);
    expect(calls).toEqual([]);

    rerender({ replying: false }); // the reply ended
    expect(calls.map((c) => c.text)).toEqual(["first"]);
    expect(result.current.queued.map((m) => m.text)).toEqual(["second"]);
    rerender({ replying: true }); // the send stored "first"; its reply streams
    await settle(0);
    expect(calls).toHaveLength(1);
    rerender({ replying: false });
    expect(calls.map((c) => c.text)).toEqual(["first", "second"]);
    await settle(1);
    expect(result.current.queued).toEqual([]);
    // Each send carries its own request id, which is the queued message's key.
    expect(new Set(calls.map((c) => c.clientRequestId)).size).toBe(2);
  });

  it("takes a message back out before it is sent", async () => {
    const { result, rerender } = mount(true);
    act(() => result.current.enqueue("keep"));
    act(() => result.current.enqueue("take back"));
    act(() => result.current.remove(result.current.queued[1]!.key));
    expect(result.current.queued.map((m) => m.text)).toEqual(["keep"]);
    rerender({ replying: false });
    await settle(0);
    expect(calls.map((c) => c.text)).toEqual(["keep"]);
  });

  it("keeps the queue over a reload and sends the message under way again with the same request id", async () => {
    const first = mount(true);
    act(() => first.result.current.enqueue("under way"));
    act(() => first.result.current.enqueue("waiting"));
    first.rerender({ replying: false });
    const underWay = calls[0]!;
    expect(underWay.text).toBe("under way");
    first.unmount(); // reload before the send settled

    calls.length = 0;
    const second = mount(false);
    expect(calls.map((c) => [c.text, c.clientRequestId])).toEqual([
      ["under way", underWay.clientRequestId],
    ]);
    expect(second.result.current.queued.map((m) => m.text)).toEqual(["waiting"]);
    await settle(0);
    await act(async () => {});
    expect(calls.map((c) => c.text)).toEqual(["under way", "waiting"]);
    await settle(1);
    expect(sessionStorage.length).toBe(0);
  });

  it("gives the texts back, in order, when a send finally fails", async () => {
    const { result, rerender } = mount(true);
    act(() => result.current.enqueue("one"));
    act(() => result.current.enqueue("two"));
    rerender({ replying: false });
    await settle(0, { ok: false, message: "You are sending messages too quickly." });
    expect(result.current.returned).toEqual({
      text: "one\n\ntwo",
      message: "You are sending messages too quickly.",
    });
    expect(result.current.queued).toEqual([]);
    expect(sessionStorage.length).toBe(0);
  });
});
