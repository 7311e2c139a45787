/**
 * Reading Prometheus's text format (what `GET /metrics` answers) and the figures `nimbus top`
 * derives from two scrapes: rates, and quantiles from histogram buckets.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of an exposition (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples per value of one label (e.g. per function). */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  label: string,
  where: Record<string, string> = {},
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).some(([k, v]) => s.labels[k] !== v)) continue;
    const key = s.labels[label] ?? "";
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** A histogram's cumulative buckets for one label value: [upper bound, count], ascending. */
export function buckets(
  samples: readonly Sample[],
  name: string,
  label: string,
  value: string,
): Array<[number, number]> {
  return samples
    .filter((s) => s.name === `${name}_bucket` && s.labels[label] === value)
    .map((s): [number, number] => [
      s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le),
      s.value,
    ])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile of the observations between two scrapes of a histogram (bucket counts
 * subtracted), interpolated linearly inside its bucket as Prometheus's histogram_quantile
 * does; undefined without observations.
 */
export function quantile(
  q: number,
  before: Array<[number, number]>,
  after: Array<[number, number]>,
): number | undefined {
  const prior = new Map(before);
  const delta = after.map(([le, n]): [number, number] => [le, n - (prior.get(le) ?? 0)]);
  const total = delta.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, n] of delta) {
    if (n >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(1, n - below);
    }
    lower = le;
    below = n;
  }
  return lower;
}
