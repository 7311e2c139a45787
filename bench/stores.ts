/**
 * PostgreSQL beside SQLite. The figures that depend on the store run once on a platform of
 * each (the same figure code, each with its baseline of the moment); this sets PostgreSQL's
 * main values beside SQLite's, with their ratio (PostgreSQL ÷ SQLite), and judges them against
 * issue 12's targets.
 */
import { type FigureResult, fmtInt, fmtMs, fmtRatio, type Store, verdict } from "./lib/context.js";

export const STORES: readonly Store[] = ["sqlite", "postgres"];
/** The figures run once per store; every other figure runs on SQLite only. */
export const STORE_FIGURES = ["throughput", "cold", "accept"] as const;
export type StoreFigure = (typeof STORE_FIGURES)[number];

interface Value {
  /** A key of the figure's `headline`. */
  readonly key: string;
  readonly label: string;
  readonly fmt: (v: number) => string;
  /** Printed only when either store's value is not 0 (a count of failures). */
  readonly quiet?: boolean;
}

/**
 * PostgreSQL's value at least `min` or at most `max` (in the value's own unit), or its ratio to
 * SQLite's at least `minRatio`.
 */
type Target =
  | { readonly key: string; readonly min: number }
  | { readonly key: string; readonly max: number }
  | { readonly key: string; readonly minRatio: number };

interface Comparison {
  readonly values: readonly Value[];
  readonly targets: readonly Target[];
  readonly note?: string;
}

const ms = (v: number) => `${fmtMs(v)} ms`;
const perSecond = (v: number) => `${fmtInt(v)}/s`;
const us = (v: number) => `${fmtInt(v)} µs`;

const COMPARISONS: Record<StoreFigure, Comparison> = {
  throughput: {
    values: [
      { key: "perSecond", label: "median run", fmt: perSecond },
      { key: "worstPerSecond", label: "worst run", fmt: perSecond },
      { key: "platformCpuUs", label: "platform CPU/invocation", fmt: us },
      { key: "errors", label: "failed requests", fmt: fmtInt, quiet: true },
    ],
    targets: [
      { key: "perSecond", minRatio: 0.8 },
      { key: "errors", max: 0 },
    ],
  },
  cold: {
    values: [
      { key: "p50", label: "p50", fmt: ms },
      { key: "p99", label: "p99", fmt: ms },
      { key: "initP50", label: "Init Duration p50", fmt: ms },
    ],
    targets: [],
    note: "no target beside SQLite's: PostgreSQL's own figure, below, is judged against the cold start's targets",
  },
  accept: {
    values: [
      { key: "perSecond", label: "median run", fmt: perSecond },
      { key: "worstPerSecond", label: "worst run", fmt: perSecond },
      { key: "errors", label: "requests not accepted", fmt: fmtInt, quiet: true },
    ],
    targets: [
      { key: "perSecond", min: 5_000 },
      { key: "errors", max: 0 },
    ],
  },
};

/** PostgreSQL's run of a figure beside SQLite's run of the same figure: one row of the table. */
export function compareStores(
  figure: StoreFigure,
  sqlite: FigureResult,
  postgres: FigureResult,
  context: { readonly notes: readonly string[]; readonly valid: boolean } = { notes: [], valid: true },
): FigureResult {
  const c = COMPARISONS[figure];
  const value = (r: FigureResult, key: string) => {
    const v = r.headline?.[key];
    if (v === undefined) throw new Error(`the ${r.name} figure gives no headline value "${key}"`);
    return v;
  };
  const rows = c.values.map((v) => {
    const [pg, lite] = [value(postgres, v.key), value(sqlite, v.key)];
    return { ...v, postgres: pg, sqlite: lite, ratio: pg / lite };
  });
  const byKey = (key: string) => rows.find((r) => r.key === key)!;
  const judged = c.targets.map((t) => {
    const r = byKey(t.key);
    if ("min" in t) return { text: `${r.label} ≥ ${r.fmt(t.min)}`, pass: r.postgres >= t.min };
    if ("max" in t)
      return {
        text: t.max === 0 ? `no ${r.label}` : `${r.label} ≤ ${r.fmt(t.max)}`,
        pass: r.postgres <= t.max,
      };
    return { text: `${r.label} ≥ ${fmtRatio(t.minRatio)} of SQLite's`, pass: r.ratio >= t.minRatio };
  });
  // A figure taken where it does not count (accepts on a server that does not flush its commits) fails.
  const pass = judged.every((j) => j.pass) && context.valid;
  return {
    name: `${sqlite.name} · postgres`,
    line:
      `${rows
        .filter((r) => !r.quiet || r.postgres !== 0 || r.sqlite !== 0)
        .map(
          (r) =>
            `${r.label} postgres ${r.fmt(r.postgres)} vs sqlite ${r.fmt(r.sqlite)}` +
            (Number.isFinite(r.ratio) ? ` ${fmtRatio(r.ratio)}` : ""),
        )
        .join(" | ")} ` +
      (judged.length > 0
        ? `(target: postgres ${judged.map((j) => j.text).join(", ")}) ${verdict(pass)}`
        : "(no target)"),
    notes: [
      ...(c.note ? [c.note] : []),
      ...context.notes,
      `PostgreSQL's own figure: ${postgres.line}`,
      ...postgres.notes,
    ],
    pass,
    data: {
      stores: { reference: "sqlite", measured: "postgres" },
      values: Object.fromEntries(
        rows.map((r) => [r.key, { postgres: r.postgres, sqlite: r.sqlite, ratio: r.ratio }]),
      ),
      targets: c.targets,
      postgres: postgres.data,
    },
  };
}
