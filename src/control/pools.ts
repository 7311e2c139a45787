/**
 * A function version's instances as the dispatcher keeps them (idle ones with their keep-alive,
 * provisioned ones, a pre-warm under way), and the counts reported from them.
 */
import type { InstanceHandle } from "../protocol/invoke.js";
import type { TimerHandle } from "../shared/clock.js";
import type { ProvisionedPool } from "./provisioning.js";
import type { InstanceStates } from "./report.js";

export interface IdleInstance {
  readonly instance: InstanceHandle;
  lastUsed: number;
  /** When the keep-alive policy lets it go (epoch ms). */
  readonly keepUntil: number;
}

export interface Pool extends ProvisionedPool {
  readonly key: string;
  readonly functionName: string;
  readonly version: string;
  readonly idle: IdleInstance[];
  retired: boolean;
  /** A pre-warm the keep-alive policy asked for (one instance, started ahead of a predicted call). */
  prewarm: TimerHandle | undefined;
  /** A pre-warmed instance starting: a call arriving meanwhile waits for it, not for a new one. */
  warming: Promise<void> | undefined;
}

/** Each function version's instances: busy, idle, and of those both, the provisioned ones. */
export function instanceStates(pools: Iterable<Pool>): InstanceStates[] {
  return [...pools].map((p) => {
    const idle = p.idle.length + p.provisionedIdle.length;
    return {
      functionName: p.functionName,
      version: p.version,
      busy: p.all.size - idle,
      idle,
      provisioned: p.provisioned.size,
    };
  });
}

/** One function's instances across its versions: idle and total. */
export function instanceCounts(pools: Iterable<Pool>, functionName: string): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const pool of pools) {
    if (pool.functionName !== functionName) continue;
    idle += pool.idle.length + pool.provisionedIdle.length;
    total += pool.all.size;
  }
  return { idle, total };
}

/** Stops the idle instances whose keep-alive has ended by `now`, and leaves the others idle. */
export function reapIdle(pools: Iterable<Pool>, now: number): void {
  for (const pool of pools) {
    if (!pool.idle.some((e) => e.keepUntil <= now)) continue;
    for (const e of pool.idle.filter((e) => e.keepUntil <= now))
      void e.instance.stop("idle past the keep-alive");
    pool.idle.splice(0, pool.idle.length, ...pool.idle.filter((e) => e.keepUntil > now));
  }
}

/** The pool whose longest-idle instance was used least recently, if any instance is idle. */
export function leastRecentlyUsed(pools: Iterable<Pool>): Pool | undefined {
  let oldest: { pool: Pool; at: number } | undefined;
  for (const pool of pools) {
    const first = pool.idle[0];
    if (first && (!oldest || first.lastUsed < oldest.at)) oldest = { pool, at: first.lastUsed };
  }
  return oldest?.pool;
}
