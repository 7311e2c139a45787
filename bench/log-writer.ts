/**
 * What storing one invocation's log costs the SQLite store, apart from the rest of the platform:
 * the throughput figure's platform CPU is ~200 µs an invocation and drifts by more than the
 * few µs a change to the write path makes. Appends what a warm invocation writes (START, END,
 * and REPORT carrying its usage record) through `SqliteStore.appendLogs` on a file database, in
 * batches as `LogService` flushes them, each awaited, and reads the CPU time of each thread
 * from /proc: the caller's (packing, posting), the writing thread's (the inserts), the process's.
 *
 *   node dist/bench/log-writer.js [--invocations N] [--rounds N] [--prefill N]
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LogRecord } from "../src/control/logs-repo.js";
import type { UsageRecord } from "../src/control/usage-repo.js";
import { newRequestId } from "../src/shared/ids.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { msPerTick } from "./lib/proc.js";

/** LogService stores at most this many entries a flush (FLUSH_AT_ENTRIES); at load, batches are this full. */
const ENTRIES_PER_BATCH = 999;
const LINES_PER_INVOCATION = 3;
const START_MS = 1_796_083_200_000;

const { values } = parseArgs({
  options: {
    invocations: { type: "string", default: "100000" },
    rounds: { type: "string", default: "5" },
    prefill: { type: "string", default: "100000" },
  },
});
const invocations = Number(values.invocations);
const rounds = Number(values.rounds);
const prefill = Number(values.prefill);

function usage(requestId: string, at: number): UsageRecord {
  return {
    requestId,
    functionName: "bench-throughput",
    version: "$LATEST",
    type: "sync",
    cold: false,
    provisioned: false,
    startedAt: at,
    durationMs: 0.412,
    billedMs: 1,
    memoryMb: 1769,
    gbSeconds: 0.001727,
    initMs: undefined,
    restoreMs: undefined,
    restoreBilledMs: undefined,
    maxMemoryMb: 58,
    outcome: "success",
    traceId: `Root=1-${(at / 1000).toString(16).slice(0, 8)}-${requestId.replaceAll("-", "").slice(0, 24)};Sampled=0`,
    arrivedAt: at,
    handedAfterMs: 0.031,
    totalMs: 0.501,
    initPhases: undefined,
  };
}

/** The lines a warm invocation of the throughput figure's function writes. */
function invocation(at: number): LogRecord[] {
  // The platform's ids: time-ordered, so the indexes over them grow at one end, as in use.
  const requestId = newRequestId(at);
  const line = (message: string, u?: UsageRecord): LogRecord => ({
    functionName: "bench-throughput",
    version: "$LATEST",
    instanceId: "i-0000000000000001",
    requestId,
    timestamp: at,
    message,
    ...(u ? { usage: u } : {}),
  });
  return [
    line(`START RequestId: ${requestId} Version: $LATEST`),
    line(`END RequestId: ${requestId}`),
    line(
      `REPORT RequestId: ${requestId}\tDuration: 0.41 ms\tBilled Duration: 1 ms\tMemory Size: 1769 MB\tMax Memory Used: 58 MB\t`,
      usage(requestId, at),
    ),
  ];
}

function batches(count: number, from: number): LogRecord[][] {
  const out: LogRecord[][] = [];
  let batch: LogRecord[] = [];
  for (let i = 0; i < count; i++) {
    batch.push(...invocation(from + i));
    if (batch.length + LINES_PER_INVOCATION > ENTRIES_PER_BATCH) {
      out.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** CPU ms of each of this process's threads, by thread id. */
function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) * msPerTick());
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

interface Round {
  readonly callerUs: number;
  readonly writerUs: number;
  readonly processUs: number;
  readonly wallUs: number;
}

async function round(store: SqliteStore, work: LogRecord[][], n: number): Promise<Round> {
  const before = threadCpuMs();
  const t0 = performance.now();
  for (const b of work) await store.appendLogs(b);
  const wallMs = performance.now() - t0;
  const after = threadCpuMs();
  const used = [...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const);
  const caller = used.find(([tid]) => tid === process.pid)?.[1] ?? 0;
  // The writing thread is the other thread that worked the most (V8's helper threads do little).
  const writer = Math.max(0, ...used.filter(([tid]) => tid !== process.pid).map(([, ms]) => ms));
  const total = used.reduce((sum, [, ms]) => sum + ms, 0);
  const us = (ms: number) => (ms * 1000) / n;
  return { callerUs: us(caller), writerUs: us(writer), processUs: us(total), wallUs: us(wallMs) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = await mkdtemp(join(tmpdir(), "nimbus-log-writer-"));
const store = new SqliteStore(join(dir, "nimbus.db"));
try {
  let at = START_MS;
  for (const b of batches(prefill, at)) await store.appendLogs(b);
  at += prefill;
  const results: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const work = batches(invocations, at);
    at += invocations;
    results.push(await round(store, work, invocations));
  }
  const show = (name: string, pick: (r: Round) => number) => {
    const xs = results.map(pick);
    console.log(
      `${name.padEnd(26)} median ${median(xs).toFixed(1).padStart(6)} µs  (rounds ${xs.map((x) => x.toFixed(1)).join(", ")})`,
    );
  };
  console.log(
    `${rounds} rounds of ${invocations} invocations (${LINES_PER_INVOCATION} lines each, batches of ${ENTRIES_PER_BATCH} lines) after ${prefill} stored; per invocation:`,
  );
  show("writing thread CPU", (r) => r.writerUs);
  show("caller thread CPU", (r) => r.callerUs);
  show("process CPU (all threads)", (r) => r.processUs);
  show("wall time", (r) => r.wallUs);
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
