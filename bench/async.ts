/**
 * Issue 3's figures, asynchronous invocation:
 * - accept rate: Event invokes answered 202 per second (each only once durable) under
 *   concurrent clients, beside the same machine's synchronous invoke rate;
 * - start latency: time from a 202 to the function starting, on an idle platform, beside the
 *   same for a synchronous invoke (request sent to function start);
 * - kill -9: acknowledged events lost or run twice across repeated kill -9 restarts under load.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NimbusClient } from "../src/cli/client.js";
import {
  type BenchContext,
  type FigureResult,
  fmtInt,
  fmtMs,
  fmtRatio,
  type Sandbox,
  verdict,
} from "./lib/context.js";
import { Control, invokePath, PAYLOAD, REGION } from "./lib/functions.js";
import { type Headers, keepAliveAgent, send } from "./lib/http-client.js";
import { cpuMsOf, sleep } from "./lib/proc.js";
import { overRuns, percentile } from "./lib/stats.js";

const ACCEPT_TARGET = 5_000;
const START_TARGET_P50_MS = 5;

/** Closed-loop load for `durationMs`: `clients` requests in flight; returns 2xx per second. */
async function loadFor(
  base: URL,
  path: string,
  headers: Headers,
  clients: number,
  durationMs: number,
  cpu?: { platformPid: number; storeCpuMs: (() => number) | undefined },
): Promise<{
  perSecond: number;
  errors: number;
  cpuUs?: { platform: number; store: number; client: number };
}> {
  const agent = keepAliveAgent(clients);
  let ok = 0;
  let errors = 0;
  const cpuBefore = cpu && {
    platform: cpuMsOf(cpu.platformPid),
    store: cpu.storeCpuMs?.() ?? 0,
    client: process.cpuUsage(),
  };
  const end = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await send(agent, base, path, headers, PAYLOAD);
        if (r.status >= 200 && r.status < 300 && !r.headers["x-amz-function-error"]) ok++;
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (!cpu || !cpuBefore || ok === 0) return { perSecond: ok / seconds, errors };
  const client = process.cpuUsage(cpuBefore.client);
  const perOk = (ms: number) => (ms * 1000) / ok;
  return {
    perSecond: ok / seconds,
    errors,
    cpuUs: {
      platform: perOk(cpuMsOf(cpu.platformPid) - cpuBefore.platform),
      store: perOk((cpu.storeCpuMs?.() ?? 0) - cpuBefore.store),
      client: (client.user + client.system) / ok,
    },
  };
}

export async function asyncAccept(
  ctx: BenchContext,
  o: { clients: number; durationMs: number },
): Promise<FigureResult> {
  const ASYNC = "bench-async-accept";
  const SYNC = "bench-async-sync";
  // The events are accepted, not run: a function with no concurrency keeps them waiting.
  await ctx.control.deploy(ASYNC, { reserved: 0 });
  await ctx.control.deploy(SYNC, { reserved: 4 });
  const accepted: number[] = [];
  const sync: number[] = [];
  const cpuRuns: { platform: number; store: number; client: number }[] = [];
  let errors = 0;
  try {
    const eventHeaders = await ctx.signer.post(ctx.base, invokePath(ASYNC), PAYLOAD, {
      "x-amz-invocation-type": "Event",
    });
    const syncHeaders = await ctx.signer.post(ctx.base, invokePath(SYNC), PAYLOAD);
    await loadFor(ctx.base, invokePath(ASYNC), eventHeaders, o.clients, 500);
    await loadFor(ctx.base, invokePath(SYNC), syncHeaders, 4, 1000);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`async accept: run ${run + 1}/${ctx.runs}`);
      const a = await loadFor(ctx.base, invokePath(ASYNC), eventHeaders, o.clients, o.durationMs, {
        platformPid: ctx.platform.pid,
        storeCpuMs: ctx.storeCpuMs,
      });
      if (a.cpuUs) cpuRuns.push(a.cpuUs);
      const s = await loadFor(ctx.base, invokePath(SYNC), syncHeaders, 4, o.durationMs);
      accepted.push(a.perSecond);
      sync.push(s.perSecond);
      errors += a.errors;
    }
  } finally {
    // Deleting the function fails its waiting events at their next claim: the queue drains
    // before the next figure (or the other store's platform) is measured.
    await ctx.control.remove(ASYNC);
    await ctx.control.remove(SYNC);
    await ctx.control.drained();
  }
  const a = overRuns(accepted);
  const s = overRuns(sync);
  return {
    name: "async accept",
    line:
      `${fmtInt(a.median)} events/s durable before 202 (worst run ${fmtInt(a.min)}), ${o.clients} clients | ` +
      `sync invoke ${fmtInt(s.median)}/s (4 instances) | ${fmtRatio(a.median / s.median)} ` +
      `(target ≥${fmtInt(ACCEPT_TARGET)}/s) ${verdict(a.median >= ACCEPT_TARGET && errors === 0)}`,
    notes: [
      ...(cpuRuns.length > 0
        ? [
            `CPU per accepted event: platform process ${fmtInt(overRuns(cpuRuns.map((c) => c.platform)).median)} µs` +
              (ctx.storeCpuMs
                ? `, PostgreSQL server ${fmtInt(overRuns(cpuRuns.map((c) => c.store)).median)} µs`
                : "") +
              `, load generator ${fmtInt(overRuns(cpuRuns.map((c) => c.client)).median)} µs`,
          ]
        : []),
      ...(errors > 0 ? [`${errors} requests were not accepted`] : []),
    ],
    pass: a.median >= ACCEPT_TARGET && errors === 0,
    data: { acceptedPerSecond: accepted, syncPerSecond: sync, errors, clients: o.clients },
    headline: { perSecond: a.median, worstPerSecond: a.min, syncPerSecond: s.median, errors },
  };
}

const START_HANDLER = `export const handler = async () => performance.timeOrigin + performance.now();\n`;

export async function asyncStart(ctx: BenchContext, o: { events: number }): Promise<FigureResult> {
  const FN = "bench-async-start";
  await ctx.control.deploy(FN, { code: START_HANDLER, reserved: 1 });
  const now = () => performance.timeOrigin + performance.now();
  const asyncMs: number[] = [];
  const syncMs: number[] = [];
  const agent = keepAliveAgent(1);
  try {
    const path = invokePath(FN);
    const syncHeaders = await ctx.signer.post(ctx.base, path, PAYLOAD);
    const eventHeaders = await ctx.signer.post(ctx.base, path, PAYLOAD, { "x-amz-invocation-type": "Event" });
    // Warm the instance and both paths.
    for (let i = 0; i < 50; i++) await send(agent, ctx.base, path, syncHeaders, PAYLOAD);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`async start: run ${run + 1}/${ctx.runs}`);
      for (let i = 0; i < o.events; i++) {
        const sent = now();
        const reply = await send(agent, ctx.base, path, syncHeaders, PAYLOAD);
        syncMs.push(Number(reply.body.toString()) - sent);
        const accepted = await send(agent, ctx.base, path, eventHeaders, PAYLOAD);
        const at = now();
        const id = String(accepted.headers["x-amzn-requestid"]);
        let record = await ctx.control.record(id);
        while (record.status !== "succeeded") {
          await sleep(2);
          record = await ctx.control.record(id);
        }
        asyncMs.push(Number(record.result) - at);
      }
    }
  } finally {
    agent.destroy();
    await ctx.control.remove(FN);
  }
  const p50 = percentile(asyncMs, 50);
  const pass = p50 <= START_TARGET_P50_MS;
  return {
    name: "async start",
    line:
      `202 → function start p50 ${fmtMs(p50)} ms p99 ${fmtMs(percentile(asyncMs, 99))} ms | ` +
      `sync request → function start p50 ${fmtMs(percentile(syncMs, 50))} ms p99 ${fmtMs(percentile(syncMs, 99))} ms ` +
      `(target p50 ≤${START_TARGET_P50_MS} ms) ${verdict(pass)}`,
    notes: [`${asyncMs.length} events, one at a time, on an otherwise idle platform`],
    pass,
    data: { asyncMs, syncMs },
  };
}

/** The function reports each run to the bench over HTTP: its own records could die with the platform. */
const REPORTING_HANDLER = (port: number) =>
  `export const handler = async (e) => { await fetch("http://127.0.0.1:${port}/ran", { method: "POST", body: String(e.n) }); return e.n; };\n`;

export async function asyncKills(
  ctx: BenchContext,
  o: { cycles: number; clients: number },
): Promise<FigureResult> {
  const ran = new Map<number, number>();
  const reporter = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const n = Number(body);
      ran.set(n, (ran.get(n) ?? 0) + 1);
      res.end();
    });
  });
  await new Promise<void>((r) => reporter.listen(0, "127.0.0.1", () => r()));
  const port = (reporter.address() as AddressInfo).port;
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-bench-kill-"));
  chmodSync(dataDir, 0o711);
  const acknowledged = new Set<number>();
  const requestIds = new Map<number, string>();
  let lost = 0;
  let pending = 0;
  let next = 0;
  let up: { child: ChildProcess; url: string } | undefined;
  try {
    for (let cycle = 0; cycle <= o.cycles; cycle++) {
      ctx.progress(`async kill -9: cycle ${cycle + 1}/${o.cycles + 1}`);
      up = await startUp(dataDir, ctx.sandbox);
      const client = new NimbusClient({ endpoint: up.url, region: REGION, ...credentials(dataDir) });
      if (cycle === 0) {
        const control = new Control(up.url, credentials(dataDir));
        await control.deploy("bench-kill", { code: REPORTING_HANDLER(port) });
      }
      if (cycle === o.cycles) break; // the last start only finishes what is left
      // Killed at a random point after this cycle's first 100 to 400 acknowledgements.
      let stop = false;
      const before = acknowledged.size;
      const killAfter = 100 + Math.floor(Math.random() * 300);
      const watch = setInterval(() => {
        if (acknowledged.size - before >= killAfter) {
          stop = true;
          clearInterval(watch);
          up?.child.kill("SIGKILL");
        }
      }, 1);
      await Promise.all(
        Array.from({ length: o.clients }, async () => {
          while (!stop) {
            const n = next++;
            try {
              const res = await client.request("POST", invokePath("bench-kill"), {
                body: JSON.stringify({ n }),
                headers: { "x-amz-invocation-type": "Event" },
              });
              if (res.status === 202) {
                acknowledged.add(n);
                requestIds.set(n, res.headers.get("x-amzn-requestid") ?? "");
              }
            } catch {
              // The platform died mid-request: not acknowledged, not promised.
            }
          }
        }),
      );
      await new Promise((r) =>
        up!.child.exitCode !== null || up!.child.signalCode !== null ? r(null) : up!.child.once("exit", r),
      );
    }
    const deadline = performance.now() + 120_000;
    while (performance.now() < deadline && [...acknowledged].some((n) => !ran.has(n))) await sleep(100);
    // An event that has not run yet is lost only if the platform has no record of it.
    const client = new NimbusClient({ endpoint: up!.url, region: REGION, ...credentials(dataDir) });
    for (const n of acknowledged) {
      if (ran.has(n)) continue;
      const res = await client.request("GET", `/nimbus/v1/invocations/${requestIds.get(n)}`);
      if (res.status === 404) lost++;
      else pending++;
      await res.arrayBuffer();
    }
  } finally {
    if (up && up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await new Promise((r) => up!.child.once("exit", r));
    }
    reporter.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const duplicated = [...ran.values()].filter((c) => c > 1).length;
  return {
    name: "async kill",
    line:
      `${o.cycles} kill -9 restarts under load: ${fmtInt(acknowledged.size)} events acknowledged, ${lost} lost, ` +
      `${duplicated} ran more than once (at least once allows it) | baseline: 0 lost ${verdict(lost === 0 && pending === 0)}`,
    notes: pending > 0 ? [`${pending} acknowledged events were still waiting to run after 2 minutes`] : [],
    pass: lost === 0 && pending === 0,
    data: { acknowledged: acknowledged.size, lost, pending, duplicated, cycles: o.cycles },
  };
}

const NIMBUS = resolve("bin/nimbus.js");

export async function startUp(
  dataDir: string,
  sandbox: Sandbox,
): Promise<{ child: ChildProcess; url: string }> {
  const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [NIMBUS, "up", "--port", "0", "--data", dataDir, "--log-level", "error", "--sandbox", sandbox],
    {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /Nimbus is running at (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl(m[1]!);
    });
    child.once("exit", () => reject(new Error(`nimbus up exited: ${out}`)));
  });
  return { child, url };
}

export function credentials(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  return JSON.parse(readFileSync(join(dataDir, "credentials.json"), "utf8")) as {
    accessKeyId: string;
    secretAccessKey: string;
  };
}
