/**
 * When to retry a model request that failed before its first token (429, 5xx, connection errors):
 * the server's hint when it gives one, else jittered exponential backoff, all within a budget.
 */

/** Requests per reply at most, the first included. */
export const MAX_ATTEMPTS = 4;

type HeaderSource = { get(name: string): string | null } | undefined;

/**
 * The wait the server asks for, in ms, or null when it gives no usable hint. In order:
 * `retry-after-ms`, `retry-after` (seconds or an HTTP date), the larger of `x-ratelimit-reset-requests`
 * / `x-ratelimit-reset-tokens` (seconds, or durations like "6m0s", "20ms"; 0 is no hint), then the
 * message's "retry after N seconds" or "try again in N seconds".
 */
export function retryHintMs(
  headers: HeaderSource,
  message: string,
  now = Date.now(),
): number | null {
  const retryAfterMs = headers?.get("retry-after-ms") ?? null;
  if (retryAfterMs !== null && isNonNegativeNumber(retryAfterMs)) return Number(retryAfterMs);
  const retryAfter = headers?.get("retry-after") ?? null;
  if (retryAfter !== null) {
    if (isNonNegativeNumber(retryAfter)) return Number(retryAfter) * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const resets = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
    .map((name) => parseDuration(headers?.get(name) ?? null))
    .filter((ms): ms is number => ms !== null && ms > 0);
  if (resets.length > 0) return Math.max(...resets);
  const sentence =
    /\b(?:retry after|try again in)\s+(\d+(?:\.\d+)?)\s*(?:seconds?|secs?|s)\b/i.exec(message);
  return sentence ? Number(sentence[1]) * 1000 : null;
}

/** Reads "55", "1.5", "20ms", "1s", "6m0s", "1h2m3.5s" as milliseconds; null when unreadable. */
export function parseDuration(value: string | null): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (isNonNegativeNumber(text)) return Number(text) * 1000;
  const match =
    /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(
      text,
    );
  if (!match || text === "") return null;
  const [, h, m, s, ms] = match;
  return (
    Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0)
  );
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  /** `retryAfterMs`: the server's hint, to tell the user when to try again. */
  | { retry: false; retryAfterMs: number | null };

/**
 * Decides whether attempt `attempt` (1-based, the one that just failed) gets another try. A hint is
 * honoured when it fits in what is left of the budget, else the reply gives up at once and says
 * when to retry. Without a hint the waits grow 1:2:4 and together fill at most the budget, each
 * jittered down by up to half so concurrent replies do not retry in lockstep.
 */
export function decideRetry(args: {
  attempt: number;
  waitedMs: number;
  budgetMs: number;
  hintMs: number | null;
  random?: () => number;
}): RetryDecision {
  const { attempt, waitedMs, budgetMs, hintMs } = args;
  const remaining = budgetMs - waitedMs;
  if (attempt >= MAX_ATTEMPTS) return { retry: false, retryAfterMs: hintMs };
  if (hintMs !== null) {
    return hintMs <= remaining
      ? { retry: true, delayMs: hintMs }
      : { retry: false, retryAfterMs: hintMs };
  }
  const shares = 2 ** (MAX_ATTEMPTS - 1) - 1;
  const nominal = (budgetMs * 2 ** (attempt - 1)) / shares;
  const delayMs = Math.min(remaining, nominal * (0.5 + 0.5 * (args.random ?? Math.random)()));
  return delayMs > 0 ? { retry: true, delayMs } : { retry: false, retryAfterMs: null };
}

function isNonNegativeNumber(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text)) && Number(text) >= 0;
}
