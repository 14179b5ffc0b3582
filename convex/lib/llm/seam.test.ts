import { describe, expect, test } from "vitest";
import { decideSeam, MAX_OVERLAP, SeamJoiner } from "./seam";

/** Streams `continuation` through a joiner in pieces of `size`; returns what viewers saw, in order. */
function join(partial: string, continuation: string, size = 3) {
  const joiner = new SeamJoiner(partial);
  const shown: string[] = [];
  for (let i = 0; i < continuation.length; i += size) {
    shown.push(joiner.push(continuation.slice(i, i + size)));
  }
  shown.push(joiner.end());
  return { text: partial + shown.join(""), joiner, shown };
}

const PARTIAL = "Retries are safe only when the operation is idempotent. The key idea behind";
const REST = " seams is to keep each step small.";
const FULL = PARTIAL + REST;

describe("SeamJoiner", () => {
  test("an exact continuation passes through unchanged", () => {
    expect(join(PARTIAL, REST).text).toBe(FULL);
  });

  test("a repeat of the partial's last words is removed", () => {
    expect(join(PARTIAL, " key idea behind" + REST).text).toBe(FULL);
    expect(join(PARTIAL, "key idea behind" + REST).text).toBe(FULL);
  });

  test("a restart of the last sentence is removed, also when the partial ended inside a word", () => {
    expect(join(PARTIAL, " The key idea behind" + REST).text).toBe(FULL);
    const cutInWord = "Retries are safe only when the operation is idempotent. The key idea beh";
    expect(join(cutInWord, " The key idea behind" + REST).text).toBe(FULL);
  });

  test("a short restart counts when it is the whole unfinished sentence", () => {
    expect(join("It failed. It", " It works now.").text).toBe("It failed. It works now.");
  });

  test("a short repeat mid-sentence stays (it may be real)", () => {
    expect(join("it is very", " very good").text).toBe("it is very very good");
  });

  test("an overlap must start at a word boundary", () => {
    expect(join("the word banana", "ana split").text).toBe("the word bananaana split");
  });

  test("a missing space after a sentence is put back, not inside code or mid-word", () => {
    expect(join("It works.", "Then it stops.").text).toBe("It works. Then it stops.");
    expect(join("```ts\nconst a = b.", "Length;\n```").text).toBe(
      "```ts\nconst a = b.Length;\n```",
    );
    expect(join("back", "pressure builds.").text).toBe("backpressure builds.");
  });

  test("viewers never see the repeated span: nothing is released before the seam is decided", () => {
    const { shown } = join(PARTIAL, " The key idea behind" + REST, 1);
    expect(shown.join("")).toBe(REST);
    // Every released piece is a piece of the final continuation, in order.
    let at = 0;
    for (const piece of shown) {
      expect(REST.slice(at, at + piece.length)).toBe(piece);
      at += piece.length;
    }
  });

  test("hold-back is short for an ordinary continuation", () => {
    const joiner = new SeamJoiner(PARTIAL);
    let released = "";
    let pushed = 0;
    for (const ch of REST) {
      released += joiner.push(ch);
      pushed += 1;
      if (released.length > 0) break;
    }
    expect(pushed).toBeLessThan(12);
  });

  test("joinedLength maps the model's characters onto the joined text", () => {
    const repeat = join(PARTIAL, " key idea behind" + REST).joiner;
    expect(repeat.joinedLength(5)).toBe(0);
    expect(repeat.joinedLength(" key idea behind".length + 6)).toBe(6);
    const spaced = join("It works.", "Then it stops.").joiner;
    expect(spaced.joinedLength(4)).toBe(5);
  });
});

describe("decideSeam", () => {
  test("waits while a longer head could still be an overlap, decides when the stream ends", () => {
    expect(decideSeam(PARTIAL, " The key", false)).toBeNull();
    expect(decideSeam(PARTIAL, " The key", true)).toEqual({ overlap: 0, prefix: "" });
    expect(decideSeam(PARTIAL, " The key idea behind", false)).toEqual({ overlap: 20, prefix: "" });
  });

  test("never holds more than MAX_OVERLAP characters", () => {
    const partial = "word ".repeat(200);
    expect(decideSeam(partial, "word ".repeat(100), false)).not.toBeNull();
    expect(decideSeam(partial, "w".repeat(MAX_OVERLAP + 1), false)).toEqual({
      overlap: 0,
      prefix: "",
    });
  });
});
