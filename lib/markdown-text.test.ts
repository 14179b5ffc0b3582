import { describe, expect, test } from "vitest";
import { plainText, visibleChars } from "./markdown-text";

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

describe("plainText", () => {
  test("reads markdown without its syntax: headings, emphasis, links, lists, quotes", () => {
    expect(
      plainText(
        "## Steps\n\n1. **Open** the [docs](https://example.com)\n2. Run `npm test`\n\n> Note: *fast*",
      ),
    ).toBe("Steps Open the docs Run npm test Note: fast");
  });

  test("drops HTML tags but keeps their text, and decodes entities", () => {
    expect(plainText("Use <b>bold</b> &amp; <br> more\n\n<div>block text</div>")).toBe(
      "Use bold & more block text",
    );
  });

  test("reads tables cell by cell, code and math as written, images by their alt text", () => {
    const markdown =
      "| Name | Age |\n| --- | --- |\n| Ada | 36 |\n\n```ts\nconst x = 1;\n```\n\n$E=mc^2$ and ![a cat](cat.png)";
    expect(plainText(markdown)).toBe("Name Age Ada 36 const x = 1; E=mc^2 and a cat");
  });
});
