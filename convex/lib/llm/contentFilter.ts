/**
 * Azure's asynchronous content filter: annotation chunks (no `delta`) carry verdicts on windows of
 * the reply, `content_filter_offsets` {check_offset, start_offset, end_offset}, and can say
 * `filtered: true` after the reply already streamed, even after `finish_reason: "stop"`.
 *
 * Policy: such a verdict ends the reply as a content-filter error, and the final message keeps
 * only this generation's text before the flagged window. Azure's offsets do not start at 0 (in
 * recordings they start where the checked text begins, e.g. 65 or 140), so positions are counted
 * from the earliest window start of the stream. That start can only be at or after the text's true
 * origin, so when unsure more is removed, never less: a flagged window that is the stream's first
 * removes all of this generation's text. Offsets are taken as UTF-16 units, like JavaScript
 * strings; if Azure counts code points, each emoji before the window moves the cut one unit earlier.
 */

type Offsets = { start_offset: number };

/** Collects the annotation chunks of one stream and says how much text a verdict leaves. */
export class FilterVerdicts {
  private origin: number | null = null;
  private flaggedStart: number | null = null;

  /** Feeds one choice of a chunk; ignores anything that is not an annotation. */
  observe(choice: unknown): void {
    if (typeof choice !== "object" || choice === null) return;
    const { content_filter_offsets: offsets, content_filter_results: results } = choice as {
      content_filter_offsets?: unknown;
      content_filter_results?: unknown;
    };
    if (!isOffsets(offsets)) return;
    const start = offsets.start_offset;
    this.origin = this.origin === null ? start : Math.min(this.origin, start);
    if (isFiltered(results)) {
      this.flaggedStart = this.flaggedStart === null ? start : Math.min(this.flaggedStart, start);
    }
  }

  /** Whether some annotation said `filtered: true`. */
  get flagged(): boolean {
    return this.flaggedStart !== null;
  }

  /** How many of the `received` characters the model sent survive the verdict (all when none). */
  keptLength(received: number): number {
    if (this.flaggedStart === null || this.origin === null) return received;
    return Math.max(0, Math.min(received, this.flaggedStart - this.origin));
  }
}

/** Whether a `content_filter_results` object blocks: a category or a custom blocklist with `filtered: true`. */
export function isFiltered(results: unknown): boolean {
  if (typeof results !== "object" || results === null) return false;
  return Object.values(results).some((value: unknown) =>
    Array.isArray(value) ? value.some(hasFilteredTrue) : hasFilteredTrue(value),
  );
}

function hasFilteredTrue(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && "filtered" in value && value.filtered === true
  );
}

function isOffsets(value: unknown): value is Offsets {
  return (
    typeof value === "object" &&
    value !== null &&
    "start_offset" in value &&
    typeof value.start_offset === "number" &&
    Number.isFinite(value.start_offset)
  );
}
