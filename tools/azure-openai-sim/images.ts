/**
 * `image_url` content parts: validated, measured and counted as Azure OpenAI does. Each error body
 * is cited in tools/azure-openai-sim/README.md ("Images").
 */
import { isIP } from "node:net";
import { imageSize } from "image-size";
import { azureError, invalidRequest, type HttpError } from "./errors";

/** Azure's per-image limit: 20 MB (20,971,520 bytes). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Images per request Azure accepts for its vision deployments (the recorded message says 10). */
export const DEFAULT_MAX_IMAGES = 10;
const FORMATS = new Set(["png", "jpg", "gif", "webp"]);
const DETAILS = ["auto", "low", "high"];
const PART_TYPES = "'text', 'image_url', 'input_audio', 'refusal', and 'audio'";
const DOWNLOAD_TIMEOUT_MS = 10_000;

/** An `image_url` part as found in a message, before it is read. */
export interface ImagePart {
  url: string;
  detail: "auto" | "low" | "high";
}

/** An image after it was decoded or downloaded. */
export interface MeasuredImage {
  bytes: number;
  width: number;
  height: number;
  tokens: number;
}

/** What a deployment accepts; `allowPrivateHosts` lets tests serve images from loopback. */
export interface ImageRules {
  acceptsImages: boolean;
  maxImages: number;
  allowPrivateHosts: boolean;
}

const ERRORS = {
  noVision: (i: number, j: number) =>
    invalidRequest(
      "Invalid content type. image_url is only supported by certain models.",
      `messages.[${i}].content.[${j}].type`,
    ),
  partType: (value: string, param: string) =>
    invalidRequest(
      `Invalid Value: '${value}'. Supported values are: ${PART_TYPES}.`,
      param,
      "invalid_value",
    ),
  detail: (value: string, param: string) =>
    invalidRequest(
      `Invalid value: '${value}'. Supported values are: 'auto', 'low', and 'high'.`,
      param,
      "invalid_value",
    ),
  missingUrl: () =>
    invalidRequest("Invalid chat format: missing required 'url' field in image_url dictionary."),
  badUrl: () =>
    badRequest(
      "Invalid image URL. The URL must be a valid HTTP or HTTPS URL, or a data URL with base64 encoding.",
    ),
  base64: () => invalidRequest("Invalid base64 image_url.", null, "invalid_base64"),
  size: () =>
    badRequest(
      `The image size must be greater than zero and cannot exceed ${MAX_IMAGE_BYTES} bytes.`,
    ),
  unsupported: () =>
    invalidRequest(
      "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
      null,
      "sanitizer_server_error",
    ),
  tooMany: (max: number) => badRequest(`Too many images in request. Max is ${max}.`),
  notAccessible: () => badRequest("The provided image url is not accessible."),
};

function badRequest(message: string): HttpError {
  return azureError(400, "BadRequest", message, { type: null, param: null });
}

/**
 * The text of a message's content and its image parts; throws Azure's 400 for a part type the
 * role or deployment does not take, a bad `detail` or a missing URL.
 */
export function readContent(
  content: unknown,
  role: string,
  i: number,
  rules: ImageRules,
): { text: string; images: ImagePart[] } {
  if (typeof content === "string") return { text: content, images: [] };
  if (!Array.isArray(content)) return { text: "", images: [] };
  let text = "";
  const images: ImagePart[] = [];
  content.forEach((part: unknown, j) => {
    const { type, text: partText, image_url: image } = (part ?? {}) as Record<string, unknown>;
    if (type === "text") {
      text += typeof partText === "string" ? partText : "";
      return;
    }
    const typeParam = `messages[${i}].content[${j}].type`;
    // Parts the simulator has no use for, but Azure takes: they add no text.
    if (type === "refusal" || type === "input_audio" || type === "audio") return;
    if (type !== "image_url") throw ERRORS.partType(String(type), typeParam);
    if (role !== "user") throw ERRORS.partType("image_url", typeParam);
    if (!rules.acceptsImages) throw ERRORS.noVision(i, j);
    const { url, detail = "auto" } = (image ?? {}) as { url?: unknown; detail?: unknown };
    if (typeof detail !== "string" || !DETAILS.includes(detail)) {
      throw ERRORS.detail(String(detail), `messages[${i}].content[${j}].image_url.detail`);
    }
    if (typeof url !== "string" || !url) throw ERRORS.missingUrl();
    images.push({ url, detail: detail as ImagePart["detail"] });
  });
  return { text, images };
}

/** Reads every image of a request (data URLs decoded, http(s) URLs downloaded) and measures it. */
export async function measureImages(
  parts: ImagePart[],
  rules: ImageRules,
): Promise<MeasuredImage[]> {
  if (parts.length > rules.maxImages) throw ERRORS.tooMany(rules.maxImages);
  const sources = parts.map((part) => ({ part, source: imageSource(part.url) }));
  const measured: MeasuredImage[] = [];
  for (const { part, source } of sources) {
    const data =
      source.kind === "data" ? source.data : await download(source.url, rules.allowPrivateHosts);
    measured.push(measure(data, part.detail));
  }
  return measured;
}

type Source = { kind: "data"; data: Buffer } | { kind: "remote"; url: URL };

function imageSource(url: string): Source {
  const data = /^data:[^,;]*(?:;[^,;]*)*?;base64,(.*)$/is.exec(url);
  if (data) {
    const payload = (data[1] ?? "").replace(/\s/g, "");
    if (payload.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw ERRORS.base64();
    return { kind: "data", data: Buffer.from(payload, "base64") };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ERRORS.badUrl();
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw ERRORS.badUrl();
  return { kind: "remote", url: parsed };
}

function measure(data: Buffer, detail: ImagePart["detail"]): MeasuredImage {
  if (data.length === 0 || data.length > MAX_IMAGE_BYTES) throw ERRORS.size();
  let size;
  try {
    size = imageSize(data);
  } catch {
    throw ERRORS.unsupported();
  }
  if (!size.type || !FORMATS.has(size.type) || !(size.width > 0 && size.height > 0)) {
    throw ERRORS.unsupported();
  }
  return {
    bytes: data.length,
    width: size.width,
    height: size.height,
    tokens: imageTokens(size.width, size.height, detail),
  };
}

/**
 * Prompt tokens of one image as Azure bills GPT-4o: 85 at low detail; otherwise (high, and auto,
 * which the simulator treats as high) fit within 2048x2048, shrink the shortest side to 768, then
 * 170 per 512-pixel tile plus 85.
 */
export function imageTokens(width: number, height: number, detail: ImagePart["detail"]): number {
  if (detail === "low") return 85;
  let scale = Math.min(1, 2048 / Math.max(width, height));
  let w = width * scale;
  let h = height * scale;
  scale = Math.min(1, 768 / Math.min(w, h));
  w *= scale;
  h *= scale;
  return 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
}

/** Azure fetches an image URL from the internet: loopback and private hosts are never reachable. */
async function download(url: URL, allowPrivateHosts: boolean): Promise<Buffer> {
  if (!allowPrivateHosts && isPrivateHost(url.hostname)) throw ERRORS.notAccessible();
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch {
    throw ERRORS.notAccessible();
  }
  if (!response.ok || !response.body) throw ERRORS.notAccessible();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > MAX_IMAGE_BYTES) {
      await response.body.cancel().catch(() => undefined);
      throw ERRORS.size();
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Loopback, private, link-local and `localhost` names: what Azure's servers can never reach. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal")) {
    return true;
  }
  if (isIP(host) === 4) {
    const [a = 0, b = 0] = host.split(".").map(Number);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  if (isIP(host) === 6) return host === "::1" || /^f[cd]|^fe80/.test(host);
  return false;
}
