/**
 * The dispatcher's side of provisioned concurrency: per version pool, keeping `target`
 * instances initialised ahead, replacing those that die, stopping the extra ones as they go
 * idle when the target drops, and reporting each one's up-time when it stops (billing).
 * `provisioned.ts` holds the API and the configurations; this keeps the instances.
 */
import type { FunctionVersion } from "../protocol/function.js";
import type { InstanceHandle, StartResult } from "../protocol/invoke.js";
import type { Clock } from "../shared/clock.js";
import type { ProvisionedSpan } from "./provisioned-repo.js";
import type { ProvisionedSpanSink } from "./provisioned-uptime.js";

/** Provisioned instances of one version started at the same time. */
const PARALLELISM = 2;

/** What a version's pool holds for provisioned concurrency. */
export interface ProvisionedPool {
  readonly fn: FunctionVersion;
  /** Every instance of the pool; a provisioned one is added once initialised. */
  readonly all: Set<InstanceHandle>;
  readonly retired: boolean;
  /** Provisioned instances and when each was initialised (epoch ms). */
  readonly provisioned: Map<InstanceHandle, number>;
  /** Those of them waiting for an invocation: they serve before on-demand ones. */
  readonly provisionedIdle: InstanceHandle[];
  provisionedTarget: number;
  provisionedStarting: number;
  /** Why provisioning stopped (an init that failed), until the target is set again. */
  provisionedFailure: string | undefined;
}

export function emptyProvisioning(): Pick<
  ProvisionedPool,
  "provisioned" | "provisionedIdle" | "provisionedTarget" | "provisionedStarting" | "provisionedFailure"
> {
  return {
    provisioned: new Map(),
    provisionedIdle: [],
    provisionedTarget: 0,
    provisionedStarting: 0,
    provisionedFailure: undefined,
  };
}

export interface ProvisionerOptions {
  readonly clock: Clock;
  /** Starts a provisioned instance of `fn`; undefined when no worker has the memory. */
  readonly start: (fn: FunctionVersion) => Promise<StartResult | undefined>;
  /** The platform is draining: start nothing more. */
  readonly draining: () => boolean;
  /** The pool's bookkeeping once an instance stopped (the dispatcher's #forget). */
  readonly stopped: (pool: ProvisionedPool, instance: InstanceHandle) => void;
  /** Told of each provisioned instance's up-time as it starts and as it ends (billing). */
  readonly spans: ProvisionedSpanSink | undefined;
}

export class Provisioner {
  readonly #o: ProvisionerOptions;

  constructor(o: ProvisionerOptions) {
    this.#o = o;
  }

  /** Sets how many instances the pool keeps; lowering it stops idle extra ones now, busy ones later. */
  set(pool: ProvisionedPool, count: number): void {
    pool.provisionedTarget = count;
    pool.provisionedFailure = undefined;
    while (pool.provisioned.size > count && pool.provisionedIdle.length > 0) {
      const extra = pool.provisionedIdle.pop()!;
      this.#end(pool, extra);
      void extra.stop("provisioned concurrency lowered");
    }
    this.fill(pool);
  }

  /** After an invocation: whether the instance goes back to the provisioned idle list (true), or was stopped. */
  release(pool: ProvisionedPool, instance: InstanceHandle): boolean {
    if (!pool.provisioned.has(instance)) return false;
    if (pool.provisioned.size > pool.provisionedTarget) {
      this.#end(pool, instance);
      void instance.stop("provisioned concurrency lowered");
    } else {
      pool.provisionedIdle.push(instance);
    }
    return true;
  }

  /** An instance of the pool stopped: a provisioned one is accounted for and replaced. */
  forget(pool: ProvisionedPool, instance: InstanceHandle): void {
    const p = pool.provisionedIdle.indexOf(instance);
    if (p !== -1) pool.provisionedIdle.splice(p, 1);
    if (!pool.provisioned.has(instance)) return;
    this.#end(pool, instance);
    this.fill(pool);
  }

  fill(pool: ProvisionedPool): void {
    while (
      !pool.retired &&
      !this.#o.draining() &&
      pool.provisionedFailure === undefined &&
      pool.provisionedStarting < PARALLELISM &&
      pool.provisioned.size + pool.provisionedStarting < pool.provisionedTarget
    ) {
      pool.provisionedStarting++;
      void this.#startOne(pool).finally(() => {
        pool.provisionedStarting--;
        this.fill(pool);
      });
    }
  }

  async #startOne(pool: ProvisionedPool): Promise<void> {
    const fn = pool.fn;
    const started = await this.#o.start(fn);
    if (!started) {
      pool.provisionedFailure = `No worker has ${fn.memoryMb} MB of memory free for a provisioned instance.`;
      return;
    }
    if (started.kind === "init-failed") {
      pool.provisionedFailure = `FUNCTION_ERROR_INIT_FAILED: ${started.errorType}: ${started.reason}`;
      return;
    }
    const instance = started.instance;
    if (pool.retired || pool.provisioned.size >= pool.provisionedTarget) {
      void instance.stop("provisioned concurrency no longer wanted");
      return;
    }
    pool.all.add(instance);
    const since = this.#o.clock.now();
    pool.provisioned.set(instance, since);
    this.#o.spans?.started(span(pool, instance, since, undefined));
    pool.provisionedIdle.push(instance);
    instance.onStopped(() => this.#o.stopped(pool, instance));
  }

  #end(pool: ProvisionedPool, instance: InstanceHandle): void {
    const since = pool.provisioned.get(instance);
    if (since === undefined) return;
    pool.provisioned.delete(instance);
    this.#o.spans?.ended(span(pool, instance, since, this.#o.clock.now()));
  }
}

function span(
  pool: ProvisionedPool,
  instance: InstanceHandle,
  since: number,
  until: number | undefined,
): ProvisionedSpan {
  return {
    functionName: pool.fn.functionName,
    version: pool.fn.version,
    instanceId: instance.id,
    memoryMb: pool.fn.memoryMb,
    startedAt: since,
    stoppedAt: until,
  };
}
