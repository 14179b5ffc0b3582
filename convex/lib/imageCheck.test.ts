import { describe, expect, test } from "vitest";
import { animatedGif, pdf, png, stillGif } from "../images.setup";
import { inspectImage } from "./imageCheck";

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

// JFIF header, a baseline frame of 64x48, end of image.
const JPEG = new Uint8Array([
  0xff,
  0xd8,
  0xff,
  0xe0,
  0,
  16,
  ...ascii("JFIF"),
  0,
  1,
  1,
  0,
  0,
  1,
  0,
  1,
  0,
  0,
  0xff,
  0xc0,
  0,
  17,
  8,
  0,
  48,
  0,
  64,
  3,
  1,
  0x22,
  0,
  2,
  0x11,
  1,
  3,
  0x11,
  1,
  0xff,
  0xd9,
]);

// A lossless WebP of 64x64 with its RIFF size set to the file's.
function webp(): Uint8Array {
  const bytes = new Uint8Array([
    ...ascii("RIFF"),
    0,
    0,
    0,
    0,
    ...ascii("WEBPVP8L"),
    5,
    0,
    0,
    0,
    0x2f,
    0x3f,
    0xc0,
    0x0f,
    0x00,
    0,
  ]);
  new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
  return bytes;
}

describe("inspectImage", () => {
  test("takes the four formats by their bytes, with their dimensions", () => {
    expect(inspectImage(png(300, 200))).toEqual({
      ok: true,
      contentType: "image/png",
      width: 300,
      height: 200,
    });
    expect(inspectImage(JPEG)).toEqual({
      ok: true,
      contentType: "image/jpeg",
      width: 64,
      height: 48,
    });
    expect(inspectImage(webp())).toEqual({
      ok: true,
      contentType: "image/webp",
      width: 64,
      height: 64,
    });
    expect(inspectImage(stillGif())).toEqual({
      ok: true,
      contentType: "image/gif",
      width: 1,
      height: 1,
    });
  });

  test("refuses other files, cut-off files and animated GIFs, saying why", () => {
    expect(inspectImage(pdf())).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not a PNG/),
    });
    expect(inspectImage(new Uint8Array())).toMatchObject({ ok: false });
    for (const cut of [
      png().subarray(0, 50),
      JPEG.subarray(0, 30),
      webp().subarray(0, 20),
      stillGif().subarray(0, 30),
    ]) {
      expect(inspectImage(cut)).toMatchObject({
        ok: false,
        error: expect.stringMatching(/damaged or incomplete/),
      });
    }
    expect(inspectImage(animatedGif())).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Animated/),
    });
  });
});
