/**
 * PostgreSQL beside SQLite. The figures that depend on the store run once on a platform of
 * each (the same figure code, each with its baseline of the moment); this sets PostgreSQL's
 * main values beside SQLite's, with their ratio (PostgreSQL ÷ SQLite), and judges them against
 * issue 12's targets.
 */
import { type Comparison, compareRuns, ms, perSecond, us } from "./lib/compare.js";
import { type FigureResult, fmtInt, type Store } from "./lib/context.js";

export const STORES: readonly Store[] = ["sqlite", "postgres"];
/** The figures run once per store; every other figure runs on SQLite only. */
export const STORE_FIGURES = ["throughput", "cold", "accept", "sqs"] as const;
export type StoreFigure = (typeof STORE_FIGURES)[number];

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
  sqs: {
    values: [
      { key: "perSecond", label: "median run", fmt: perSecond },
      { key: "worstPerSecond", label: "worst run", fmt: perSecond },
      { key: "invokePerSecond", label: "async Invoke accepts", fmt: perSecond },
      { key: "errors", label: "SendMessage not answered", fmt: fmtInt, quiet: true },
    ],
    // Issue 14's target, on either store.
    targets: [
      { key: "perSecond", min: 10_000 },
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
  return compareRuns(
    COMPARISONS[figure],
    { result: sqlite, label: "sqlite", possessive: "SQLite's" },
    { result: postgres, label: "postgres", title: "PostgreSQL" },
    // A figure taken where it does not count (accepts on a server that does not flush its commits) fails.
    { kind: "stores", notes: context.notes, valid: context.valid, finiteRatiosOnly: true },
  );
}
