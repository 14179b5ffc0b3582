import {
  echoText,
  parseDirective,
  stripDirective,
  type SimControls,
  type SimSeam,
} from "./directives";

export const DEFAULT_TOKENS = 300;

export interface SimulatedReply {
  text: string;
  pieces: string[];
}

/** Small seeded PRNG (mulberry32): the same seed always yields the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit FNV-1a hash of a string, mixed with a seed. */
export function hashText(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The full, uninterrupted reply the simulator gives to a user message: a deterministic function of
 * the message with its directive stripped, the token count (directive `tokens`, else opts.tokens,
 * else 300), the seed and the number of images the message carries (the reply then starts with
 * "I see N images.", within the token count).
 */
export function simulatedReply(
  userText: string,
  opts: {
    tokens?: number;
    seed?: number;
    images?: number;
    files?: string[];
    /** The request offered web search: a `search=N` directive in `userText` cites N sources. */
    webSearch?: boolean;
    /** The sources to cite (what `webSearch` would pick), when the caller already has them. */
    citations?: SimulatedCitation[];
  } = {},
): SimulatedReply {
  const echoed = echoedReply(userText);
  if (echoed) return echoed;
  const controls = controlsOf(userText);
  const tokens = controls.tokens ?? opts.tokens ?? DEFAULT_TOKENS;
  const lead = [...imagesLead(opts.images ?? 0), ...filesLead(opts.files ?? [])];
  const pieces = [
    ...lead,
    ...generatePieces(stripDirective(userText), Math.max(1, tokens - lead.length), opts.seed ?? 0),
  ];
  const citations = opts.citations ?? (opts.webSearch ? simulatedCitations(userText, opts) : []);
  if (citations.length > 0) cite(pieces, citations);
  return { text: pieces.join(""), pieces };
}

function controlsOf(userText: string): SimControls {
  try {
    return parseDirective(userText);
  } catch {
    return {};
  }
}

/** "I read 2 files: a.pdf, b.txt." and a paragraph break, for a message with `input_file` parts. */
function filesLead(files: string[]): string[] {
  if (files.length === 0) return [];
  const noun = files.length === 1 ? "file" : "files";
  return tokenize(`I read ${files.length} ${noun}: ${files.join(", ")}.\n\n`);
}

/** A source a web-searching reply cites: its page, its title ("" when the page has none), the link's text. */
export interface SimulatedCitation {
  url: string;
  title: string;
  label: string;
}

const SITES = [
  ["learn.example.com", "Example Learn"],
  ["docs.example.org", "Example Docs"],
  ["news.example.net", "Example News"],
  ["blog.example.com", "Example Blog"],
] as const;
const CITATION_TITLES = [
  "A guide to {s}",
  "{S} explained",
  "Notes on {s}",
  "How {s} works in practice",
];

/**
 * The sources a reply searching the web cites for `[[sim search=N]]`: N pages, the one numbered
 * `untitled=K` (1-based) without a title (its link then reads as its host), deterministic from the
 * message with its directive stripped.
 */
export function simulatedCitations(
  userText: string,
  opts: { seed?: number } = {},
): SimulatedCitation[] {
  const controls = controlsOf(userText);
  const message = stripDirective(userText);
  const rng = seededRandom(hashText(`${message}\0citations`, opts.seed ?? 0));
  const subject = subjectOf(message, rng);
  const slug = subject.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  return Array.from({ length: controls.search ?? 0 }, (_, i) => {
    const [host, site] = SITES[i % SITES.length] ?? SITES[0];
    const untitled = controls.untitled === i + 1;
    const title = untitled
      ? ""
      : pick(rng, CITATION_TITLES)
          .replace("{s}", subject)
          .replace("{S}", subject.charAt(0).toUpperCase() + subject.slice(1));
    return {
      url: `https://${host}/articles/${slug}-${i + 1}`,
      title,
      label: untitled ? host : site,
    };
  });
}

/** Inserts ` [label](url)` after evenly spread sentence ends (or at the end), as Azure's text carries them. */
function cite(pieces: string[], citations: SimulatedCitation[]): void {
  const base = pieces.length;
  let shift = 0;
  citations.forEach((citation, k) => {
    let at = Math.floor(((k + 1) * base) / (citations.length + 1));
    while (
      at < base - 1 &&
      (!/[.!?]$/.test(pieces[at + shift] ?? "") || insideCodeBlock(pieces, at + shift + 1))
    ) {
      at++;
    }
    const link = tokenize(` [${citation.label}](${citation.url})`);
    pieces.splice(at + shift + 1, 0, ...link);
    shift += link.length;
  });
}

/** Whether the text of the first `end` pieces ends inside a fenced code block (no citation goes there). */
function insideCodeBlock(pieces: string[], end: number): boolean {
  return (
    ((
      pieces
        .slice(0, end)
        .join("")
        .match(/^[ \t]*```/gm) ?? []
    ).length &
      1) ===
    1
  );
}

/** "I see 2 images." and a paragraph break, so tests can tell the model got a message's images. */
function imagesLead(images: number): string[] {
  if (images <= 0) return [];
  return tokenize(`I see ${images} image${images === 1 ? "" : "s"}.\n\n`);
}

/**
 * The reply to a message with an `[[sim echo]]` directive (see `echoText`), in pieces of `piece`
 * characters or else of a few characters as `tokenize` cuts them; undefined without one.
 */
export function echoedReply(userText: string): SimulatedReply | undefined {
  let controls;
  try {
    controls = parseDirective(userText);
  } catch {
    return undefined;
  }
  if (!controls.echo) return undefined;
  const text = echoText(userText).repeat(controls.repeat ?? 1);
  const size = controls.piece;
  const pieces = size ? (text.match(new RegExp(`[^]{1,${size}}`, "gu")) ?? []) : tokenize(text);
  return { text, pieces };
}

/** Splits text into token-like pieces of a few characters (leading whitespace stays with its word). */
export function tokenize(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(/\s*[A-Za-z0-9_']+|\s*[^\sA-Za-z0-9_']|\s+/g)) {
    const piece = match[0];
    if (piece.length <= 8) {
      pieces.push(piece);
      continue;
    }
    const parts = Math.ceil(piece.length / 6);
    const size = Math.ceil(piece.length / parts);
    for (let i = 0; i < piece.length; i += size) pieces.push(piece.slice(i, i + size));
  }
  return pieces;
}

/**
 * The pieces still to send when `prefixLength` characters of the reply were already delivered: the
 * remaining pieces on the original boundaries, the first one shortened when the prefix ends inside it.
 */
export function remainingPieces(pieces: string[], prefixLength: number): string[] {
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] ?? "";
    if (offset + piece.length > prefixLength) {
      const head = piece.slice(prefixLength - offset);
      return [head, ...pieces.slice(i + 1)];
    }
    offset += piece.length;
  }
  return [];
}

/**
 * The pieces a continuation streams after `partial` (a prefix of the reply made of `pieces`):
 * `exact` the remainder; `repeat` the partial's last three words again first; `restart` its last
 * sentence again from its start; `nospace` the remainder without the space that joins it.
 */
export function continuationPieces(pieces: string[], partial: string, seam: SimSeam): string[] {
  const rest = remainingPieces(pieces, partial.length);
  switch (seam) {
    case "exact":
      return rest;
    case "repeat": {
      const repeated = /(?:\s*\S+){1,3}\s*$/.exec(partial)?.[0] ?? "";
      return repeated ? [repeated, ...rest] : rest;
    }
    case "restart": {
      const repeated = partial.slice(lastSentenceStart(partial));
      return repeated ? [repeated, ...rest] : rest;
    }
    case "nospace": {
      const [first, ...others] = rest;
      if (first === undefined) return rest;
      const trimmed = first.replace(/^[ \t]+/, "");
      return trimmed ? [trimmed, ...others] : others;
    }
  }
}

/** Where the last sentence of `text` starts: just after the last `.`, `!`, `?` before whitespace, or a newline. */
function lastSentenceStart(text: string): number {
  let start = 0;
  for (const match of text.matchAll(/[.!?](?=\s)|\n/g)) start = match.index + 1;
  return start;
}

const SENTENCES = [
  "Here is a short overview of {s}.",
  "The key idea behind {s} is to keep each step small and observable.",
  "In practice, {s} works best when data flows in one direction.",
  "Most problems with {s} come from hidden state and unclear ownership.",
  "A good first step is to measure what actually happens before changing anything.",
  "Sending results in small pieces keeps the interface responsive.",
  "Each part should do one thing and report clearly when it fails.",
  "It helps to write down the expected behaviour before writing the code.",
  "Retries are safe only when the operation is idempotent.",
  "Logs with timestamps make slow paths easy to spot.",
  "Keep the happy path simple and handle the edge cases explicitly.",
  "When in doubt, prefer the boring solution that the team already knows.",
  "Tests that exercise the real interfaces catch the most regressions.",
  "A clear error message saves more time than a clever workaround.",
];

const TERMS = [
  "Latency",
  "Reliability",
  "Ordering",
  "Retries",
  "Observability",
  "Backpressure",
  "Idempotency",
  "Caching",
  "Testing",
  "Recovery",
];

const CODE_UNITS = [
  ["  const start = performance.now();"],
  ["  const parts: string[] = [];"],
  ["  for (const item of items) {", "    parts.push(item.trim());", "  }"],
  ["  if (parts.length === 0) return [];"],
  ["  const total = parts.reduce((sum, part) => sum + part.length, 0);"],
  ["  console.log(`processed ${total} characters`);"],
  ["  const unique = new Set(parts);"],
  ["  parts.sort((a, b) => a.localeCompare(b));"],
  ["  const elapsed = performance.now() - start;"],
];

const FILLER = [" and", " so", " it", " is", " we", " can", " then", " all", " now", " a"];

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

function subjectOf(userText: string, rng: () => number): string {
  const words = userText.match(/[A-Za-z][A-Za-z-]{3,}/g);
  return words ? pick(rng, words).toLowerCase() : "this";
}

function sentence(rng: () => number, subject: string): string {
  return pick(rng, SENTENCES).replace("{s}", subject);
}

/** Adds units (each a text) while the total stays within budget, always at least one. */
function addUnits(pieces: string[], budget: number, next: () => string): void {
  const limit = pieces.length + budget;
  let first = true;
  for (;;) {
    const unit = tokenize(next());
    if (!first && pieces.length + unit.length > limit) return;
    pieces.push(...unit);
    first = false;
  }
}

/** Appends words of plausible sentences so that exactly `total` pieces exist, ending with a period. */
function fillParagraph(
  pieces: string[],
  total: number,
  rng: () => number,
  subject: string,
  lead: string,
): void {
  let words: string[] = [];
  let atStart = true;
  while (pieces.length < total - 1) {
    if (words.length === 0) {
      if (!atStart && pieces.length < total - 2) pieces.push(".");
      words = sentence(rng, subject).replace(/\.$/, "").split(" ");
      atStart = true;
      if (pieces.length >= total - 1) break;
    }
    const word = words.shift() ?? "";
    const prefix = atStart && pieces.length === 0 ? "" : atStart && lead ? lead : " ";
    const wordPieces = tokenize(prefix + word);
    atStart = false;
    if (wordPieces.length <= total - 1 - pieces.length) {
      pieces.push(...wordPieces);
    } else {
      pieces.push(pick(rng, FILLER));
    }
    lead = "";
  }
  if (pieces.length < total) pieces.push(pieces.length === 0 ? "Ok." : ".");
  pieces.length = total;
}

function generatePieces(userText: string, tokens: number, seed: number): string[] {
  const rng = seededRandom(hashText(userText, seed));
  const subject = subjectOf(userText, rng);
  const pieces: string[] = [];
  if (tokens < 160) {
    fillParagraph(pieces, tokens, rng, subject, "");
    return pieces;
  }
  const budget = Math.floor(tokens / 4);
  addUnits(pieces, budget, () => (pieces.length === 0 ? "" : " ") + sentence(rng, subject));

  pieces.push(...tokenize("\n\nThe main points to keep in mind:\n"));
  addUnits(pieces, budget, () => `\n- **${pick(rng, TERMS)}**: ${sentence(rng, subject)}`);

  const name = pick(rng, ["normalize", "collect", "prepare", "summarize"]);
  pieces.push(...tokenize(`\n\n\`\`\`ts\nfunction ${name}(items: string[]): string[] {`));
  addUnits(pieces, budget - 12, () => "\n" + pick(rng, CODE_UNITS).join("\n"));
  pieces.push(...tokenize("\n  return parts;\n}\n```"));

  fillParagraph(pieces, tokens, rng, subject, "\n\n");
  return pieces;
}

/** How a title request starts (the app's convex/lib/llm/titles.ts): its first, system, message. */
export const TITLE_REQUEST = /^\s*Write a short title for this conversation\b/i;

/**
 * The simulator's answer to a title request: the first five words of the user's message (directive
 * stripped, punctuation dropped, the first letter capitalized) in quotes and with a full stop, as
 * models often add, so clients must clean it; "New conversation" when the message has no words.
 */
export function simulatedTitle(userText: string): string {
  const title = (stripDirective(userText).match(/[\p{L}\p{N}']+/gu) ?? []).slice(0, 5).join(" ");
  const capitalized = title.charAt(0).toUpperCase() + title.slice(1);
  return `"${capitalized || "New conversation"}."`;
}

/** Summary pieces of a reasoning deployment's reply unless `summary=` says otherwise. */
export const DEFAULT_SUMMARY_PIECES = 40;

const SUMMARY_TITLES = [
  "Considering {s}",
  "Planning the answer",
  "Checking the details",
  "Weighing the options",
  "Structuring the reply",
];

const THOUGHTS = [
  "The user is asking about {s}, so I should explain the key idea first.",
  "I want to keep each step small and easy to follow.",
  "A short list of the main points would help here.",
  "I should include a small code example to make it concrete.",
  "It is worth mentioning how errors are reported.",
  "I need to make sure the explanation stays accurate.",
  "Measuring before changing anything is a good principle to stress.",
  "I'll finish with a brief recommendation.",
];

/**
 * The reasoning summary a reasoning deployment streams before its reply: `parts` parts (each a
 * bold title and thoughts about the message, as gpt-5 summaries read), `pieces` pieces in all
 * (at least one per part; 0 = none), a deterministic function of the message with its directive
 * stripped; `summary=` and `parts=` directives in `userText` win over the options.
 */
export function simulatedSummary(
  userText: string,
  opts: { pieces?: number; parts?: number; seed?: number } = {},
): SimulatedReply[] {
  const controls = controlsOf(userText);
  const message = stripDirective(userText);
  const rng = seededRandom(hashText(`${message}\0summary`, opts.seed ?? 0));
  const subject = subjectOf(message, rng);
  const total = controls.summary ?? opts.pieces ?? DEFAULT_SUMMARY_PIECES;
  const count = Math.max(1, Math.min(controls.parts ?? opts.parts ?? 1, total));
  const parts: SimulatedReply[] = [];
  for (let k = 0; k < count && total > 0; k++) {
    const budget = Math.floor(total / count) + (k < total % count ? 1 : 0);
    let text = `**${pick(rng, SUMMARY_TITLES).replace("{s}", subject)}**\n\n`;
    let pieces = tokenize(text);
    for (let first = true; pieces.length < budget; first = false) {
      text += (first ? "" : " ") + pick(rng, THOUGHTS).replace("{s}", subject);
      pieces = tokenize(text);
    }
    pieces = pieces.slice(0, budget);
    parts.push({ text: pieces.join(""), pieces });
  }
  return parts;
}
