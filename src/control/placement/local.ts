/** Placement over the workers of this process: the one with the most free memory wins. */
import type { WorkerApi } from "../../protocol/invoke.js";
import type { Placement } from "./types.js";

export class LocalPlacement implements Placement {
  readonly #workers: readonly WorkerApi[];

  constructor(workers: readonly WorkerApi[]) {
    this.#workers = workers;
  }

  choose(memoryMb: number): WorkerApi | undefined {
    let best: WorkerApi | undefined;
    let bestFree = -1;
    for (const w of this.#workers) {
      const free = w.capacity().freeMemoryMb;
      if (free >= memoryMb && free > bestFree) {
        best = w;
        bestFree = free;
      }
    }
    return best;
  }

  workers(): readonly WorkerApi[] {
    return this.#workers;
  }
}
