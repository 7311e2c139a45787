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
