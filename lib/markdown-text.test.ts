import { describe, expect, test } from "vitest";
import { visibleChars } from "./markdown-text";

describe("visibleChars", () => {
  test("drops bold marks, bullets, inline code marks and whitespace from prose", () => {
    expect(visibleChars("**Note:** use `npm`\n\n- one\n* two\n")).toBe("Note:usenpmonetwo");
  });

  test("keeps the inside of a code fence verbatim, markdown syntax included", () => {
    const markdown =
      "Before **bold**\n```ts\nconst a = x ** 2; // `tick`\n- not a bullet\n```\nAfter";
    expect(visibleChars(markdown)).toBe("Beforeboldconsta=x**2;//`tick`-notabulletAfter");
  });

  test("treats a fence left open (a reply still streaming) as code to the end", () => {
    expect(visibleChars("Text\n```py\nprint(2 ** 3)")).toBe("Textprint(2**3)");
  });
});
