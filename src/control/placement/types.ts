/** Placement chooses the worker that hosts a new instance. */
import type { WorkerApi } from "../../protocol/invoke.js";

export interface Placement {
  /** A worker with room for `memoryMb`, preferring one that already caches the package. */
  choose(memoryMb: number, packageId: string): WorkerApi | undefined;
  /** Every worker, e.g. to push a new package to all code caches. */
  workers(): readonly WorkerApi[];
}
