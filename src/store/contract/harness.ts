/**
 * What a contract suite is given: a way to open a fresh, empty store of one implementation,
 * and what every suite builds its records from.
 */
import type { EventQueue, NewEvent, QueuedEvent } from "../../control/async/queue.js";
import type { LogRecord } from "../../control/logs-repo.js";
import type { FunctionsRepo } from "../../control/registry/repo.js";
import type { UsageRecord } from "../../control/usage-repo.js";
import type { Alias, FunctionVersion } from "../../protocol/function.js";
import { LATEST } from "../../protocol/function.js";
import type { InitPhases } from "../../protocol/invoke.js";

/** A fresh, empty repository; `close` releases it and whatever was made for it. */
export interface Harness<R> {
  readonly repo: R;
  /** The same store's functions, for suites whose records belong to a function. */
  readonly functions: FunctionsRepo;
  close(): Promise<void>;
}

export type OpenRepo<R> = () => Promise<Harness<R>>;

/** A fresh queue, and more views of the same store's queue, as other platforms polling it see it. */
export interface QueueHarness extends Harness<EventQueue> {
  /** Another platform's queue on the same store, through its own connection; closed with the harness. */
  another(): Promise<EventQueue>;
}

/** Runs `body` on a fresh repository and closes it, whether the body passes or throws. */
export async function withRepo<H extends Harness<unknown>>(
  open: () => Promise<H>,
  body: (h: H) => Promise<void>,
): Promise<void> {
  const h = await open();
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** 2026-12-01T00:00:00.000Z, epoch ms: past 2^32, so a store that narrowed it would show. */
export const T0_MS = 1_796_083_200_000;

/** A $LATEST version of `name`, with every optional field set; `patch` overrides. */
export function version(name: string, patch: Partial<FunctionVersion> = {}): FunctionVersion {
  return {
    functionName: name,
    version: LATEST,
    runtime: "nodejs20.x",
    handler: "index.handler",
    memoryMb: 128,
    timeoutS: 3,
    environment: { STAGE: "test" },
    description: "",
    role: "arn:aws:iam::000000000000:role/nimbus-function",
    packageId: `pkg-${name}`,
    codeSha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
    codeSize: 321,
    revisionId: `rev-${name}-1`,
    lastModified: T0_MS,
    architecture: "x86_64",
    deadLetterTarget: "arn:aws:lambda:us-east-1:000000000000:function:dlq",
    snapStart: "PublishedVersions",
    ephemeralStorageMb: 1024,
    ...patch,
  };
}

/** What `make` of `publishVersion` gets from the registry: a copy of $LATEST under the number. */
export function published(latest: FunctionVersion): (n: number) => FunctionVersion {
  return (n) => ({ ...latest, version: String(n), revisionId: `${latest.revisionId}-v${n}` });
}

export function alias(functionName: string, name: string, patch: Partial<Alias> = {}): Alias {
  return {
    functionName,
    name,
    functionVersion: "1",
    description: "",
    additionalVersionWeights: {},
    revisionId: `rev-${name}-1`,
    ...patch,
  };
}

/** Bytes that are not UTF-8: a brace around NUL, 0xff 0xfe, a broken pair, a lone continuation byte. */
export const RAW_BYTES = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x7d]);

/** A cold start's phases, as an attempt reports them. */
export const PHASES: InitPhases = {
  placementMs: 2,
  codeMs: 5,
  codeCached: true,
  sandboxMs: 40,
  pooled: false,
  runtimeMs: 80,
  functionInitMs: 120,
};

/** An event of "fn" accepted at T0_MS; `patch` overrides. */
export function event(id: string, patch: Partial<NewEvent> = {}): NewEvent {
  return {
    id,
    functionName: "fn",
    qualifier: undefined,
    payload: Buffer.from(JSON.stringify({ id })),
    traceId: `Root=1-${id}`,
    acceptedAt: T0_MS,
    hops: 0,
    idempotencyKey: undefined,
    ...patch,
  };
}

/** The ids of events, in the order given. */
export const ids = (events: readonly QueuedEvent[]): string[] => events.map((e) => e.id);

/** A log line of `functionName`'s $LATEST, at T0 + `atMs`; `patch` overrides. */
export function logLine(
  functionName: string,
  atMs: number,
  message: string,
  patch: Partial<LogRecord> = {},
): LogRecord {
  return {
    functionName,
    version: LATEST,
    instanceId: "i-0a1b2c",
    requestId: undefined,
    timestamp: T0_MS + atMs,
    message,
    ...patch,
  };
}

/**
 * A usage record of a warm, successful sync call started at T0 + `atMs`, with every optional
 * field set and figures that are not round in binary; `patch` overrides.
 */
export function usageRecord(requestId: string, atMs: number, patch: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId,
    functionName: "fn",
    version: LATEST,
    type: "sync",
    cold: false,
    provisioned: false,
    startedAt: T0_MS + atMs,
    durationMs: 0.1 + 0.2,
    billedMs: 1,
    memoryMb: 1769,
    gbSeconds: (1 / 1000) * (1769 / 1024),
    initMs: 123.456789,
    restoreMs: 45.6,
    restoreBilledMs: 46,
    maxMemoryMb: 71,
    outcome: "success",
    traceId: `Root=1-6935f000-${requestId};Parent=53995c3f42cd8ad8;Sampled=1`,
    arrivedAt: T0_MS + atMs - 2,
    handedAfterMs: 1 / 3,
    totalMs: Math.PI,
    initPhases: {
      placementMs: 0.0625,
      codeMs: 1.7,
      codeCached: true,
      sandboxMs: 12.25,
      pooled: false,
      runtimeMs: 30.000001,
      functionInitMs: 20.75,
    },
    ...patch,
  };
}

/** The REPORT line that carries `usage`. */
export function reportLine(usage: UsageRecord): LogRecord {
  return {
    functionName: usage.functionName,
    version: usage.version,
    instanceId: "i-0a1b2c",
    requestId: usage.requestId,
    timestamp: usage.startedAt,
    message: `REPORT RequestId: ${usage.requestId}\tDuration: ${usage.durationMs.toFixed(2)} ms`,
    usage,
  };
}
