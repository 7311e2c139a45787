/** Order statistics over samples: nearest-rank percentiles, so p99 of 2,000 samples is a real sample. */

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** p50 and p99 of one set of samples. */
export interface Spread {
  readonly p50: number;
  readonly p99: number;
}

export function spread(samples: readonly number[]): Spread {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Median and range of one value per run (a throughput, a memory average). */
export function overRuns(values: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** The median of a handful of values, the mean of the middle two for an even count. */
export function medianOfFew(v: readonly number[]): number {
  const sorted = [...v].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
}

/**
 * The interval of the median of n values (here, ratios of pairs) that the sign test gives
 * without assuming a distribution: the k-th smallest to the k-th largest value, with k the
 * largest for which its coverage, 1 − 2·P(Bin(n, ½) ≤ k−1), is at least `confidence`. With too
 * few values for any k (90 % needs 5), the whole range, with its lower coverage.
 */
export function signTestInterval(
  values: readonly number[],
  confidence: number,
): { low: number; high: number; coverage: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const coverage = (k: number) => {
    let tail = 0;
    for (let i = 0; i < k; i++) tail += binomial(n, i) / 2 ** n;
    return 1 - 2 * tail;
  };
  let k = 1;
  while (k + 1 <= n / 2 && coverage(k + 1) >= confidence) k++;
  return { low: sorted[k - 1]!, high: sorted[n - k]!, coverage: coverage(k) };
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
  return c;
}
