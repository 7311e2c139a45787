/**
 * An instance's peak memory for the REPORT line's Max Memory Used: the runtime process's
 * VmHWM (resident high-water mark, shared pages of the runtime binary included, as Lambda
 * counts them). /proc/<pid>/status costs ~7 µs to render, 5 % of a warm invocation's CPU, so
 * it is read only when the peak may have moved: when /proc/<pid>/statm (~1 µs, current
 * resident size) shows more than the last known peak, and otherwise at most every
 * REFRESH_MS, which catches a peak reached and freed again between two reads.
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { Sandbox } from "./types.js";

const REFRESH_MS = 100;

export class PeakMemory {
  #status: number | undefined;
  #statm: number | undefined;
  readonly #now: () => number;
  readonly #buf = Buffer.alloc(4096);
  #peakKb = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  /** kB per page, learnt from the first status read (statm counts pages). */
  #pageKb = 4;

  constructor(pid: number, now: () => number = () => performance.now()) {
    this.#status = tryOpen(`/proc/${pid}/status`);
    this.#statm = tryOpen(`/proc/${pid}/statm`);
    this.#now = now;
  }

  /** The peak in MB, rounded up; undefined if the process cannot be read (or is gone). */
  mb(): number | undefined {
    const resident = this.#residentPages();
    if (this.#now() - this.#readAt >= REFRESH_MS || resident * this.#pageKb > this.#peakKb) {
      this.#readStatus(resident);
    }
    return this.#peakKb > 0 ? Math.ceil(this.#peakKb / 1024) : undefined;
  }

  /** Closes the files; `mb()` goes on answering the last peak read. */
  close(): void {
    for (const fd of [this.#status, this.#statm]) if (fd !== undefined) closeSync(fd);
    this.#status = undefined;
    this.#statm = undefined;
  }

  #readStatus(residentPages: number): void {
    const text = this.#read(this.#status);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(text);
    if (!hwm) return;
    this.#peakKb = Math.max(this.#peakKb, Number(hwm[1]));
    this.#readAt = this.#now();
    const rss = /VmRSS:\s+(\d+) kB/.exec(text);
    if (rss && residentPages > 0) this.#pageKb = Math.max(1, Math.round(Number(rss[1]) / residentPages));
  }

  #residentPages(): number {
    // statm: size resident shared text lib data dt, in pages.
    const text = this.#read(this.#statm);
    const space = text.indexOf(" ");
    return space < 0 ? 0 : Number.parseInt(text.slice(space + 1), 10) || 0;
  }

  #read(fd: number | undefined): string {
    if (fd === undefined) return "";
    try {
      const n = readSync(fd, this.#buf, 0, this.#buf.length, 0);
      return this.#buf.toString("latin1", 0, n);
    } catch {
      return "";
    }
  }
}

function tryOpen(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}

/** The sandbox's peak memory, read once: when the returned function is first called. */
export function peakOnce(sandbox: Sandbox | undefined): () => number | undefined {
  let peak: { mb: number | undefined } | undefined;
  return () => {
    peak ??= { mb: sandbox?.peakMemoryMb() };
    return peak.mb;
  };
}
