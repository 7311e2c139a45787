/** What every figure gets from run.ts, and what it gives back. */
import type { Control } from "./functions.js";
import type { Signer } from "./http-client.js";
import type { PlatformProcess } from "./platform.js";

/** Where the platform keeps its state (`store`): SQLite, or a schema of a PostgreSQL database. */
export type Store = "sqlite" | "postgres";

/** The sandbox drivers the bench measures, each set explicitly (never the platform's "auto"). */
export const SANDBOXES = ["process", "jail", "gvisor"] as const;
export type Sandbox = (typeof SANDBOXES)[number];

export interface BenchContext {
  /** The driver of `platform`, and of any platform a figure starts of its own. */
  readonly sandbox: Sandbox;
  readonly store: Store;
  /** CPU time of the store's server so far, in ms, when it runs apart from the platform (PostgreSQL). */
  readonly storeCpuMs?: () => number;
  readonly platform: PlatformProcess;
  readonly base: URL;
  readonly control: Control;
  readonly signer: Signer;
  readonly runs: number;
  /** Where platforms a figure starts of its own write their CPU profiles (`--cpu-prof`). */
  readonly cpuProfileDir?: string;
  /** Progress on stderr, so stdout keeps only the table. */
  readonly progress: (message: string) => void;
}

export interface FigureResult {
  readonly name: string;
  /** One line of the table. */
  readonly line: string;
  /** Extra lines printed under it: where the time or memory goes. */
  readonly notes: readonly string[];
  readonly pass: boolean;
  /** Everything measured, for bench/results/latest.json. */
  readonly data: Record<string, unknown>;
  /** The figure's main values by name, for setting one sandbox driver beside another (`sandboxes.ts`). */
  readonly headline?: Readonly<Record<string, number>>;
}

/** One part of a figure that has several (figure 13): its column in the row, its note, its verdict. */
export interface FigurePart {
  readonly column: string;
  readonly note: string;
  readonly pass: boolean;
  readonly data: Record<string, unknown>;
  readonly headline: Record<string, number>;
}

/** Milliseconds with sensible precision for sub-millisecond and tens-of-milliseconds figures. */
export function fmtMs(v: number): string {
  return v < 10 ? v.toFixed(2) : v.toFixed(1);
}

export function fmtRatio(v: number): string {
  return `×${v < 10 ? v.toFixed(2) : v.toFixed(1)}`;
}

export function fmtInt(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}

export function fmtMb(kb: number): string {
  return (kb / 1024).toFixed(1);
}

export function verdict(pass: boolean): string {
  return pass ? "PASS" : "MISS";
}
