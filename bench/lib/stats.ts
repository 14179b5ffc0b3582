/** The q-quantile (0..1) of `values` by linear interpolation; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
}

/** p50, p95 and max of a sample, rounded to 0.1. */
export function summarize(values: readonly number[]): {
  p50: number;
  p95: number;
  max: number;
  n: number;
} {
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    p50: round(quantile(values, 0.5)),
    p95: round(quantile(values, 0.95)),
    max: round(values.length === 0 ? Number.NaN : Math.max(...values)),
    n: values.length,
  };
}

/** For each emitted token (end offset in the text, emit time), the delay until a sample showed it. */
export function tokenLatencies(
  tokens: ReadonlyArray<{ end: number; t: number }>,
  samples: ReadonlyArray<{ t: number; length: number }>,
): { latencies: number[]; unseen: number } {
  const latencies: number[] = [];
  let unseen = 0;
  let s = 0;
  for (const token of tokens) {
    while (s < samples.length && (samples[s]?.length ?? 0) < token.end) s += 1;
    const sample = samples[s];
    if (sample === undefined) unseen += 1;
    else latencies.push(sample.t - token.t);
  }
  return { latencies, unseen };
}
