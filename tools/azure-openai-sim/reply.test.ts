import { describe, expect, it } from "vitest";
import { parseDirective } from "./directives";
import { echoedReply, remainingPieces, simulatedReply, tokenize } from "./reply";

describe("simulatedReply", () => {
  it("is deterministic and depends on the message and the seed, not on the directive", () => {
    const a = simulatedReply("How do I stream?");
    expect(simulatedReply("How do I stream?")).toEqual(a);
    expect(simulatedReply("How do I stream? [[sim rate=0 fault=stall]]")).toEqual(a);
    expect(simulatedReply("How do I stream?", { seed: 1 }).text).not.toBe(a.text);
    expect(simulatedReply("How do I batch?").text).not.toBe(a.text);
  });

  it("has exactly `tokens` non-empty pieces of a few characters that join to the text", () => {
    for (const tokens of [1, 2, 3, 10, 159, 160, 300, 1200]) {
      for (const message of ["Hi", "Explain Convex queries", "", "??"]) {
        const { text, pieces } = simulatedReply(message, { tokens });
        expect(pieces).toHaveLength(tokens);
        expect(pieces.join("")).toBe(text);
        for (const piece of pieces) {
          expect(piece.length).toBeGreaterThan(0);
          expect(piece.length).toBeLessThanOrEqual(8);
        }
      }
    }
  });

  it("defaults to 300 pieces and lets a tokens directive win over opts.tokens", () => {
    expect(simulatedReply("Default").pieces).toHaveLength(300);
    expect(simulatedReply("Sized [[sim tokens=25]]", { tokens: 90 }).pieces).toHaveLength(25);
    expect(simulatedReply("Sized [[sim tokens=25]]").text).toBe(
      simulatedReply("Sized", { tokens: 25 }).text,
    );
  });

  it("reads as markdown with paragraphs, a list and one fenced code block", () => {
    const { text } = simulatedReply("Tell me about streaming replies");
    expect(text.split("\n\n").length).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^- \*\*[A-Z][a-z]+\*\*: /m);
    expect(text.match(/```/g)).toHaveLength(2);
    expect(text).toMatch(
      /```ts\nfunction \w+\(items: string\[\]\): string\[\] \{\n[\s\S]*\n\}\n```/,
    );
    expect(text.endsWith(".")).toBe(true);
  });
});

describe("tokenize", () => {
  it("keeps leading whitespace with the word and splits long words", () => {
    expect(tokenize("Hello world, streaming!")).toEqual([
      "Hello",
      " world",
      ",",
      " stre",
      "aming",
      "!",
    ]);
    expect(tokenize("a\n\n- b").join("")).toBe("a\n\n- b");
  });
});

describe("remainingPieces", () => {
  const pieces = ["Hel", "lo", " wor", "ld"];
  it("continues on the original boundaries", () => {
    expect(remainingPieces(pieces, 0)).toEqual(pieces);
    expect(remainingPieces(pieces, 5)).toEqual([" wor", "ld"]);
  });
  it("shortens the piece the prefix ends inside", () => {
    expect(remainingPieces(pieces, 6)).toEqual(["wor", "ld"]);
    expect(remainingPieces(pieces, 11)).toEqual([]);
  });
});

describe("echoedReply", () => {
  it("is the echoed text whatever tokens says, in pieces joining to it", () => {
    const message = "[[sim echo tokens=2]]\n**bold** and `code` ✓\n";
    const reply = simulatedReply(message, { tokens: 900 });
    expect(reply.text).toBe("**bold** and `code` ✓\n");
    expect(reply.pieces.join("")).toBe(reply.text);
    expect(reply.pieces.length).toBeGreaterThan(2);
    expect(echoedReply("[[sim echo piece=3]]\nabcdefg")?.pieces).toEqual(["abc", "def", "g"]);
    expect(echoedReply("[[sim echo piece=1]]\n✓x")?.pieces).toEqual(["✓", "x"]);
  });

  it("repeats the echoed text `repeat` times: a reply longer than a message can be", () => {
    expect(echoedReply("[[sim echo repeat=3 piece=4]]\n| 1 |\n")).toEqual({
      text: "| 1 |\n| 1 |\n| 1 |\n",
      pieces: ["| 1 ", "|\n| ", "1 |\n", "| 1 ", "|\n"],
    });
    expect(() => parseDirective("[[sim echo repeat=0]]")).toThrow(/repeat must be at least 1/);
  });

  it("is undefined without an echo directive", () => {
    expect(echoedReply("Hello [[sim rate=0]]")).toBeUndefined();
    expect(echoedReply("[[sim echo=0]] Hello")).toBeUndefined();
  });
});

describe("citations in a reply that searched", () => {
  it("follow a sentence outside code blocks, whatever the prompt", () => {
    for (let n = 0; n < 60; n++) {
      const prompt = `Question ${n} about caching [[sim search=3]]`;
      const { text } = simulatedReply(prompt, { webSearch: true, tokens: 200 });
      let fenced = false;
      for (const line of text.split("\n")) {
        if (/^[ \t]*```/.test(line)) fenced = !fenced;
        else if (fenced) expect(line, prompt).not.toMatch(/\]\(https:/);
      }
      expect(text.match(/\]\(https:/g), prompt).toHaveLength(3);
    }
  });
});
