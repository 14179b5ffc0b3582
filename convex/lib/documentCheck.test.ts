import { describe, expect, test } from "vitest";
import { pdfWithPages, png, textFile } from "../images.setup";
import { inspectDocument, isUtf8, pdfPageCount } from "./documentCheck";

const PDF = { fileName: "a.pdf", contentType: "application/pdf" };
const CSV = { fileName: "a.csv", contentType: "text/csv" };

describe("document bytes", () => {
  test("a PDF is taken with the pages its page tree says", () => {
    expect(inspectDocument(pdfWithPages(12), PDF)).toEqual({ ok: true, pages: 12 });
  });

  test("a PDF whose pages are hidden in compressed streams is taken without a count", () => {
    const bytes = textFile(
      "%PDF-1.7\n1 0 obj << /Type /ObjStm /N 40 >> stream\nx\nendstream\n%%EOF",
    );
    expect(inspectDocument(bytes, PDF)).toEqual({ ok: true });
    expect(pdfPageCount("<< /Type /Page /Parent 2 0 R >> << /Type /Page >>")).toBe(2);
  });

  test.each([
    ["an image named .pdf", png(), /"a.pdf" is not a PDF \(its contents say otherwise\)/],
    ["a cut-off PDF", pdfWithPages(1).subarray(0, 40), /damaged or incomplete/],
    ["an encrypted PDF", pdfWithPages(1, { encrypted: true }), /encrypted \(password-protected\)/],
    ["a 200-page PDF", pdfWithPages(200), /has 200 pages; the model reads at most 100 pages/],
  ])("%s is refused with a reason", (_name, bytes, reason) => {
    const verdict = inspectDocument(bytes, PDF);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.error).toMatch(reason);
  });

  test("text must be UTF-8: a binary file or Latin-1 text named .csv is refused", () => {
    expect(inspectDocument(textFile("name,city\nZoë,Zürich\n"), CSV)).toEqual({ ok: true });
    for (const bytes of [png(), Uint8Array.from([0x5a, 0x6f, 0xeb, 0x0a])]) {
      const verdict = inspectDocument(bytes, CSV);
      expect(!verdict.ok && verdict.error).toMatch(/"a.csv" is not UTF-8 text/);
    }
  });

  test("UTF-8 validation refuses overlong forms, surrogates and cut-off sequences", () => {
    expect(isUtf8(textFile("a€𝄞 ✓"))).toBe(true);
    expect(isUtf8(Uint8Array.from([0xc0, 0xaf]))).toBe(false); // overlong "/"
    expect(isUtf8(Uint8Array.from([0xed, 0xa0, 0x80]))).toBe(false); // a surrogate
    expect(isUtf8(Uint8Array.from([0xe2, 0x82]))).toBe(false); // cut off
    expect(isUtf8(Uint8Array.from([0xf4, 0x90, 0x80, 0x80]))).toBe(false); // past U+10FFFF
  });
});
