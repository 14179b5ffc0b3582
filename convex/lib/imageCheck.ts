import { imageSize } from "image-size";

/** What the bytes of an upload turned out to be: an image we accept, or a sentence for the user. */
export type ImageVerdict =
  { ok: true; contentType: string; width: number; height: number } | { ok: false; error: string };

const REFUSED_TYPE =
  "This file is not a PNG, JPEG, WebP or GIF image (its contents say otherwise), so it cannot be attached.";
const CORRUPT = "This image is damaged or incomplete, so it cannot be attached.";
const ANIMATED = "Animated GIFs cannot be attached: the model reads still images only.";

function startsWith(bytes: Uint8Array, prefix: number[], at = 0): boolean {
  return prefix.every((byte, i) => bytes[at + i] === byte);
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_END = [0, 0, 0, 0, ...ascii("IEND"), 0xae, 0x42, 0x60, 0x82];

/** The accepted type the magic bytes name, or null. */
function sniff(bytes: Uint8Array): string | null {
  if (startsWith(bytes, PNG)) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  return null;
}

/**
 * The number of frames of a GIF, walking its blocks to the trailer; null when the blocks do not
 * add up (truncated or damaged).
 */
export function gifFrameCount(bytes: Uint8Array): number | null {
  const packed = bytes[10] ?? 0;
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  const skipSubBlocks = () => {
    for (;;) {
      const size = bytes[at];
      if (size === undefined) return false;
      at += 1 + size;
      if (size === 0) return true;
    }
  };
  let frames = 0;
  for (;;) {
    const block = bytes[at];
    if (block === 0x3b) return frames;
    if (block === 0x21) {
      at += 2;
      if (!skipSubBlocks()) return null;
    } else if (block === 0x2c) {
      const local = bytes[at + 9] ?? 0;
      at += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1;
      if (!skipSubBlocks()) return null;
      frames += 1;
    } else {
      return null;
    }
  }
}

/** Whether the file ends where its format says it does (a cut-off upload does not). */
function isComplete(bytes: Uint8Array, contentType: string): boolean {
  switch (contentType) {
    case "image/png":
      return startsWith(bytes, PNG_END, bytes.length - PNG_END.length);
    case "image/jpeg": {
      // End of image marker, allowing a little padding after it.
      const tail = bytes.subarray(Math.max(0, bytes.length - 64));
      return tail.some((byte, i) => byte === 0xff && tail[i + 1] === 0xd9);
    }
    case "image/webp": {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return bytes.length >= 12 && view.getUint32(4, true) + 8 <= bytes.length;
    }
    default:
      return true;
  }
}

/**
 * Checks an upload's bytes: an accepted type by its magic bytes (whatever its name or declared
 * type), complete, with dimensions, and not an animated GIF.
 */
export function inspectImage(bytes: Uint8Array): ImageVerdict {
  const contentType = sniff(bytes);
  if (contentType === null) return { ok: false, error: REFUSED_TYPE };
  if (!isComplete(bytes, contentType)) return { ok: false, error: CORRUPT };
  if (contentType === "image/gif") {
    const frames = gifFrameCount(bytes);
    if (frames === null || frames === 0) return { ok: false, error: CORRUPT };
    if (frames > 1) return { ok: false, error: ANIMATED };
  }
  try {
    const { width, height } = imageSize(bytes);
    if (!width || !height) return { ok: false, error: CORRUPT };
    return { ok: true, contentType, width, height };
  } catch {
    return { ok: false, error: CORRUPT };
  }
}
