/**
 * Keep-alive policies: after an invocation, how long an idle instance of a function is kept.
 *
 * - `fixed`: the same idle timeout for every function (10 minutes by default).
 * - `adaptive`: the hybrid histogram policy of "Serverless in the Wild" (Shahrad et al.,
 *   USENIX ATC 2020). Per function, the idle times between invocations are counted in a
 *   histogram of 1-minute bins over 4 hours. When it is representative, the instance is kept
 *   until a high percentile of the idle times (the paper's 99th, plus a margin); and when even
 *   the 5th percentile is long, the instance is stopped at once and a new one is started
 *   (pre-warmed) just before it, then kept until the tail. When it is not (too few idle times,
 *   too many beyond 4 hours, or too evenly spread to predict), the fixed timeout applies.
 *   One addition to the paper: an idle budget. From the same histogram the policy estimates,
 *   per idle period, the cold-start chance and the idle time of its window and of the fixed
 *   timeout, and uses its window only if it is expected to do better on one and no worse on
 *   the other; if the 99th percentile's window does not, lower tails are tried (95th,
 *   90th, 80th, 50th) before falling back to the fixed timeout. Without it, a bursty function
 *   (most idle times seconds, the rest an hour or more) was kept for hours after every burst.
 *
 * The policy only decides; the dispatcher stops and pre-warms. All times are milliseconds.
 */

export interface KeepAliveDecision {
  /**
   * Stop the instance now and start a new one after this long (0: keep this one). Set only
   * when the next invocation is predicted not to come sooner.
   */
  readonly prewarmAfterMs: number;
  /** How long the (kept or pre-warmed) instance then waits for an invocation. */
  readonly keepAliveMs: number;
}

export interface KeepAlivePolicy {
  /** An invocation of `functionName` starts at `now` (epoch ms). */
  invoked(functionName: string, now: number): void;
  /** An invocation of `functionName` ended at `now`: what to do with its instance. */
  decide(functionName: string, now: number): KeepAliveDecision;
  /** The function is gone: forget what was learnt. */
  forget(functionName: string): void;
}

export class FixedKeepAlive implements KeepAlivePolicy {
  readonly #ms: number;

  constructor(keepAliveMs: number) {
    this.#ms = keepAliveMs;
  }

  invoked(): void {}

  decide(): KeepAliveDecision {
    return { prewarmAfterMs: 0, keepAliveMs: this.#ms };
  }

  forget(): void {}
}

export interface HybridOptions {
  /** The timeout when the histogram cannot be trusted. */
  readonly fixedMs: number;
  readonly binMs?: number;
  readonly bins?: number;
  /** Idle times needed before the histogram is used. */
  readonly minSamples?: number;
  /** Largest share of idle times beyond the histogram's range for it to be used. */
  readonly maxOutOfRange?: number;
  /** Smallest coefficient of variation of the bin counts: below it, no pattern stands out. */
  readonly minCv?: number;
  /** A pre-warm window shorter than this keeps the instance instead (a restart costs too). */
  readonly minPrewarmMs?: number;
  /** Widening of both windows (the head earlier, the tail later). */
  readonly margin?: number;
}

interface FunctionHistory {
  readonly counts: Uint32Array;
  inRange: number;
  outOfRange: number;
  /** End of the last invocation, or undefined while one runs / before the first. */
  lastEnd: number | undefined;
  running: number;
  /** The window last chosen, and the number of idle times it was chosen from. */
  decision: KeepAliveDecision | undefined;
  decidedAt: number;
}

/** Tail percentiles tried in turn, the paper's first. */
const TAIL_PERCENTILES = [0.99, 0.95, 0.9, 0.8, 0.5];

export class HybridHistogramKeepAlive implements KeepAlivePolicy {
  readonly #fixedMs: number;
  readonly #binMs: number;
  readonly #bins: number;
  readonly #minSamples: number;
  readonly #maxOutOfRange: number;
  readonly #minCv: number;
  readonly #minPrewarmMs: number;
  readonly #margin: number;
  readonly #functions = new Map<string, FunctionHistory>();

  constructor(o: HybridOptions) {
    this.#fixedMs = o.fixedMs;
    this.#binMs = o.binMs ?? 60_000;
    this.#bins = o.bins ?? 240;
    this.#minSamples = o.minSamples ?? 10;
    this.#maxOutOfRange = o.maxOutOfRange ?? 0.5;
    this.#minCv = o.minCv ?? 2;
    this.#minPrewarmMs = o.minPrewarmMs ?? 2 * 60_000;
    this.#margin = o.margin ?? 0.1;
  }

  invoked(functionName: string, now: number): void {
    const h = this.#history(functionName);
    // The idle time ends with the first invocation after a quiet period.
    if (h.running === 0 && h.lastEnd !== undefined) {
      const bin = Math.floor(Math.max(0, now - h.lastEnd) / this.#binMs);
      if (bin < this.#bins) {
        h.counts[bin]! += 1;
        h.inRange++;
      } else {
        h.outOfRange++;
      }
    }
    h.running++;
  }

  decide(functionName: string, now: number): KeepAliveDecision {
    const h = this.#history(functionName);
    h.running = Math.max(0, h.running - 1);
    if (h.running === 0) h.lastEnd = now;
    const total = h.inRange + h.outOfRange;
    // Decided again with each new idle time, then (past 10) after a tenth more.
    if (h.decision === undefined || total >= h.decidedAt + Math.max(1, h.decidedAt / 10)) {
      const representative =
        h.inRange >= this.#minSamples &&
        h.outOfRange <= total * this.#maxOutOfRange &&
        this.#cv(h) >= this.#minCv;
      h.decision = representative ? this.#choose(h) : { prewarmAfterMs: 0, keepAliveMs: this.#fixedMs };
      h.decidedAt = total;
    }
    return h.decision;
  }

  /** The paper's window with the tail at the highest percentile that fits the idle budget, or the fixed timeout. */
  #choose(h: FunctionHistory): KeepAliveDecision {
    const fixed = this.#expect(h, 0, this.#fixedMs);
    const headBin = this.#percentileBin(h, 0.05);
    const head = headBin * this.#binMs * (1 - this.#margin);
    const prewarm = head >= this.#minPrewarmMs ? head : 0;
    for (const q of TAIL_PERCENTILES) {
      const tail = (this.#percentileBin(h, q) + 1) * this.#binMs * (1 + this.#margin);
      const e = this.#expect(h, prewarm, tail);
      const better =
        (e.cold < fixed.cold && e.idleMs <= fixed.idleMs) ||
        (e.cold <= fixed.cold && e.idleMs < fixed.idleMs);
      if (better) {
        return { prewarmAfterMs: prewarm, keepAliveMs: Math.max(this.#binMs, tail - prewarm) };
      }
    }
    return { prewarmAfterMs: 0, keepAliveMs: this.#fixedMs };
  }

  /**
   * Per idle period, by the histogram (each bin's idle times at its middle; those beyond its
   * range at 1.5 times the range): the chance of a cold start, and the expected idle time of an
   * instance loaded from `from` to `until` after the last invocation ends.
   */
  #expect(h: FunctionHistory, from: number, until: number): { cold: number; idleMs: number } {
    const total = h.inRange + h.outOfRange;
    let cold = 0;
    let idle = 0;
    const add = (it: number, n: number) => {
      if (it < from || it > until) cold += n;
      if (it >= from) idle += n * (Math.min(it, until) - from);
    };
    for (let i = 0; i < this.#bins; i++) if (h.counts[i]! > 0) add((i + 0.5) * this.#binMs, h.counts[i]!);
    add(this.#bins * this.#binMs * 1.5, h.outOfRange);
    return { cold: cold / total, idleMs: idle / total };
  }

  forget(functionName: string): void {
    this.#functions.delete(functionName);
  }

  #history(functionName: string): FunctionHistory {
    let h = this.#functions.get(functionName);
    if (!h) {
      h = {
        counts: new Uint32Array(this.#bins),
        inRange: 0,
        outOfRange: 0,
        lastEnd: undefined,
        running: 0,
        decision: undefined,
        decidedAt: 0,
      };
      this.#functions.set(functionName, h);
    }
    return h;
  }

  /** The bin where the cumulative share of in-range idle times reaches `p`. */
  #percentileBin(h: FunctionHistory, p: number): number {
    const target = Math.max(1, Math.ceil(p * h.inRange));
    let seen = 0;
    for (let i = 0; i < this.#bins; i++) {
      seen += h.counts[i]!;
      if (seen >= target) return i;
    }
    return this.#bins - 1;
  }

  /** Coefficient of variation of the bin counts: high when idle times gather in few bins. */
  #cv(h: FunctionHistory): number {
    const mean = h.inRange / this.#bins;
    if (mean === 0) return 0;
    let sq = 0;
    for (let i = 0; i < this.#bins; i++) sq += (h.counts[i]! - mean) ** 2;
    return Math.sqrt(sq / this.#bins) / mean;
  }
}
