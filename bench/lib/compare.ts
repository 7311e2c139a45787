/**
 * One run of a figure beside another run of the same figure (the same figure code on platforms
 * that differ in one setting: the store, the sandbox driver): the measured side's main values
 * beside the reference side's, with their ratio (measured ÷ reference), judged against targets.
 * `stores.ts` and `sandboxes.ts` say which figures, which values and which targets.
 */
import { type FigureResult, fmtInt, fmtMb, fmtMs, fmtRatio, verdict } from "./context.js";

export interface Value {
  /** A key of the figure's `headline`. */
  readonly key: string;
  readonly label: string;
  readonly fmt: (v: number) => string;
  /** Printed only when either side's value is not 0 (a count of failures). */
  readonly quiet?: boolean;
}

/**
 * The measured side's value at least `min` or at most `max` (in the value's own unit), or its
 * ratio to the reference side's at least `minRatio` or at most `maxRatio`.
 */
export type Target =
  | { readonly key: string; readonly min: number }
  | { readonly key: string; readonly max: number }
  | { readonly key: string; readonly minRatio: number }
  | { readonly key: string; readonly maxRatio: number };

/** What one figure's comparison prints and judges. */
export interface Comparison {
  readonly values: readonly Value[];
  readonly targets: readonly Target[];
  readonly note?: string;
}

export const ms = (v: number) => `${fmtMs(v)} ms`;
export const mb = (kb: number) => `${fmtMb(kb)} MB`;
export const perSecond = (v: number) => `${fmtInt(v)}/s`;
export const us = (v: number) => `${fmtInt(v)} µs`;

/** One side of a comparison: its run of the figure, and the names the comparison gives it. */
export interface Side {
  readonly result: FigureResult;
  /** Its name in the table line and in `data` ("sqlite", "jail"). */
  readonly label: string;
  /** Its name beside each value's number in `data`, when not `label`. */
  readonly dataKey?: string;
}

export interface ReferenceSide extends Side {
  /** Its name in a ratio target's text, "≥ ×0.80 of SQLite's"; none when absent. */
  readonly possessive?: string;
}

export interface MeasuredSide extends Side {
  /** Its name in the note quoting its own figure: "PostgreSQL", "the jail". */
  readonly title: string;
}

export interface CompareOptions {
  /** The key of `data` that names the two sides ("stores", "sandboxes"). */
  readonly kind: string;
  /** Printed after the comparison's own note, before the measured side's own figure. */
  readonly notes?: readonly string[];
  /** False when the measured run was taken where it does not count: the row fails whatever its values. */
  readonly valid?: boolean;
  /** Print a value's ratio only when it is finite (a reference value of 0 gives none). */
  readonly finiteRatiosOnly?: boolean;
}

/** A value of a figure's `headline`, which the comparison cannot do without. */
export function headlineValue(r: FigureResult, key: string): number {
  const v = r.headline?.[key];
  if (v === undefined) throw new Error(`the ${r.name} figure gives no headline value "${key}"`);
  return v;
}

/** The measured side's run of a figure beside the reference side's run of the same figure: one row of the table. */
export function compareRuns(
  c: Comparison,
  reference: ReferenceSide,
  measured: MeasuredSide,
  options: CompareOptions,
): FigureResult {
  const rows = c.values.map((v) => {
    const m = headlineValue(measured.result, v.key);
    const ref = headlineValue(reference.result, v.key);
    return { ...v, measured: m, reference: ref, ratio: m / ref };
  });
  const byKey = (key: string) => rows.find((r) => r.key === key)!;
  const of = reference.possessive ? ` of ${reference.possessive}` : "";
  const judged = c.targets.map((t) => {
    const r = byKey(t.key);
    if ("min" in t) return { text: `${r.label} ≥ ${r.fmt(t.min)}`, pass: r.measured >= t.min };
    if ("max" in t)
      return {
        text: t.max === 0 ? `no ${r.label}` : `${r.label} ≤ ${r.fmt(t.max)}`,
        pass: r.measured <= t.max,
      };
    if ("maxRatio" in t)
      return { text: `${r.label} ≤ ${fmtRatio(t.maxRatio)}${of}`, pass: r.ratio <= t.maxRatio };
    return { text: `${r.label} ≥ ${fmtRatio(t.minRatio)}${of}`, pass: r.ratio >= t.minRatio };
  });
  const pass = judged.every((j) => j.pass) && options.valid !== false;
  const measuredKey = measured.dataKey ?? measured.label;
  const referenceKey = reference.dataKey ?? reference.label;
  return {
    name: `${reference.result.name} · ${measured.label}`,
    line:
      `${rows
        .filter((r) => !r.quiet || r.measured !== 0 || r.reference !== 0)
        .map(
          (r) =>
            `${r.label} ${measured.label} ${r.fmt(r.measured)} vs ${reference.label} ${r.fmt(r.reference)}` +
            (!options.finiteRatiosOnly || Number.isFinite(r.ratio) ? ` ${fmtRatio(r.ratio)}` : ""),
        )
        .join(" | ")} ` +
      (judged.length > 0
        ? `(target: ${measured.label} ${judged.map((j) => j.text).join(", ")}) ${verdict(pass)}`
        : "(no target)"),
    notes: [
      ...(c.note ? [c.note] : []),
      ...(options.notes ?? []),
      `${measured.title}'s own figure: ${measured.result.line}`,
      ...measured.result.notes,
    ],
    pass,
    data: {
      [options.kind]: { reference: reference.label, measured: measured.label },
      values: Object.fromEntries(
        rows.map((r) => [r.key, { [measuredKey]: r.measured, [referenceKey]: r.reference, ratio: r.ratio }]),
      ),
      targets: c.targets,
      [measuredKey]: measured.result.data,
    },
  };
}
