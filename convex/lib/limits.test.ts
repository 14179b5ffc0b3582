import { describe, expect, test } from "vitest";
import { titleFromMessage, validateMessageContent, validateTitle } from "./limits";
import { appErrorData } from "../../lib/errors";

function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    return appErrorData(error);
  }
  throw new Error("expected a refusal");
}

describe("message text", () => {
  test("a lone surrogate is refused with a message a person can act on", () => {
    for (const broken of ["half \uD83D of an emoji", "end \uDE00", "\uDBFF"]) {
      expect(refusal(() => validateMessageContent(broken))).toEqual({
        code: "InvalidArgument",
        message: expect.stringContaining("broken character"),
      });
    }
    expect(refusal(() => validateTitle("x\uD800"))?.code).toBe("InvalidArgument");
    expect(validateMessageContent("a whole emoji 😀")).toBe("a whole emoji 😀");
  });

  test("NUL and other control characters are removed, tab and newline kept, CRLF becomes LF", () => {
    expect(validateMessageContent("a\u0000b\u0007c\u001Bd\u007Fe")).toBe("abcde");
    expect(validateMessageContent("line 1\r\nline 2\rline 3\n\tindented")).toBe(
      "line 1\nline 2\nline 3\n\tindented",
    );
    expect(refusal(() => validateMessageContent("\u0000\u0001 "))?.code).toBe("InvalidArgument");
  });
});

describe("titles from the first message", () => {
  const sequences = ["👨‍👩‍👧", "🇫🇷🇩🇪", "e\u0301\u0301", "👍🏽", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"];
  const rest = " and more words".repeat(3);

  test("are cut by code points, never inside an emoji, a flag or a combining sequence", () => {
    for (const sequence of sequences) {
      // Straddling the cut (57 code points): the whole sequence goes.
      const straddling = "x".repeat(56);
      expect(titleFromMessage(`${straddling}${sequence}${rest}`)).toBe(`${straddling}...`);
      // Before the cut: the whole sequence stays.
      const before = "x".repeat(50);
      expect(
        titleFromMessage(`${before}${sequence}${rest}`).startsWith(`${before}${sequence}`),
      ).toBe(true);
    }
  });

  test("short ones are kept whole, with whitespace folded", () => {
    expect(titleFromMessage("  Hello\n\nworld 👋  ")).toBe("Hello world 👋");
    expect(Array.from(titleFromMessage("ü".repeat(100)))).toHaveLength(60);
  });
});
