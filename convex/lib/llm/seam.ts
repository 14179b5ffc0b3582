/**
 * Joins a continuation to the partial reply it continues, while it streams. Models asked to
 * continue often repeat the partial's last words, restart its last sentence or drop the space that
 * joins them. The joiner holds the continuation's first characters back until the seam is decided,
 * so viewers never see a repeated span:
 *
 * - Overlap: the longest start of the continuation that is also the end of the partial is removed
 *   when it begins at a word boundary and is at least MIN_OVERLAP characters long, or when it is
 *   the partial's whole unfinished last sentence (a restart), of at most MAX_OVERLAP characters.
 * - Missing space: with no overlap, a continuation starting with a capital letter right after the
 *   partial's `.`, `!` or `?` (outside a code fence) gets a space in front.
 *
 * What it cannot tell apart: a short repeat (under MIN_OVERLAP, mid-sentence) from words that
 * really repeat, so short repeats stay; a genuine repetition of MIN_OVERLAP or more characters at
 * the seam from a repeat, so it is removed; a dropped space between two words from a cut inside a
 * word ("the" + "re" vs "the" + "re-run"), so no space is added there; a restart that rewords the
 * sentence, which is no overlap and stays.
 */

/** Shortest repeat removed mid-sentence (shorter ones may be real repeated words). */
export const MIN_OVERLAP = 8;
/** Longest repeat looked for, and so the most text held back. */
export const MAX_OVERLAP = 400;

/** `overlap` characters of the continuation are dropped and `prefix` is put in front. */
export type SeamDecision = { overlap: number; prefix: string };

/**
 * Decides the seam between `partial` and the continuation's first characters `head`, or returns
 * null while a longer `head` could still change the answer (`final`: no more text will come).
 */
export function decideSeam(partial: string, head: string, final: boolean): SeamDecision | null {
  const window = partial.slice(-MAX_OVERLAP);
  if (head.length === 0) return final ? { overlap: 0, prefix: "" } : null;
  const acceptable = (length: number) => acceptOverlap(partial, head, length);
  if (!final) {
    for (let length = head.length + 1; length <= window.length; length++) {
      if (window.slice(-length).startsWith(head) && acceptable(length)) return null;
    }
  }
  for (let length = Math.min(head.length, window.length); length > 0; length--) {
    if (head.startsWith(window.slice(-length)) && acceptable(length)) {
      return { overlap: length, prefix: "" };
    }
  }
  return { overlap: 0, prefix: needsSpace(partial, head) ? " " : "" };
}

function acceptOverlap(partial: string, head: string, length: number): boolean {
  const start = partial.length - length;
  const before = partial[start - 1];
  const atWordStart = before === undefined || /\s/.test(before) || /^\s/.test(head);
  if (!atWordStart) return false;
  if (length >= MIN_OVERLAP) return true;
  // Shorter: only the whole unfinished last sentence, and only if it has a word in it.
  const sentenceStart = partial.slice(0, start).trimEnd();
  const atSentenceStart =
    sentenceStart === "" || /[.!?]$/.test(sentenceStart) || /\n\s*$/.test(partial.slice(0, start));
  return atSentenceStart && /\w/.test(partial.slice(start));
}

function needsSpace(partial: string, head: string): boolean {
  const insideCode = (partial.match(/```/g)?.length ?? 0) % 2 === 1;
  return !insideCode && /[.!?]["')\]]?$/.test(partial) && /^[A-Z]/.test(head);
}

/** Streams a continuation through the seam rules: holds text back until the seam is decided. */
export class SeamJoiner {
  private held = "";
  private decision: SeamDecision | null = null;

  constructor(private readonly partial: string) {}

  /** Takes the model's next text; returns what may be shown now. */
  push(text: string): string {
    if (this.decision !== null) return text;
    this.held += text;
    return this.settle(false);
  }

  /** The stream ended (any way): releases what is still held. */
  end(): string {
    return this.decision === null ? this.settle(true) : "";
  }

  /**
   * How many characters of the joined text correspond to the first `raw` characters the model
   * sent (the overlap removed, an added space counted).
   */
  joinedLength(raw: number): number {
    const { overlap, prefix } = this.decision ?? { overlap: 0, prefix: "" };
    return raw <= overlap ? 0 : prefix.length + raw - overlap;
  }

  private settle(final: boolean): string {
    this.decision = decideSeam(this.partial, this.held, final);
    if (this.decision === null) return "";
    const out = this.decision.prefix + this.held.slice(this.decision.overlap);
    this.held = "";
    return out;
  }
}
