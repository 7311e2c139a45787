/**
 * A closed loop for the auth figures: a fixed number of requests always in flight on one
 * keep-alive agent, each step followed at once by the next, as the throughput figure's `load`,
 * but with a step of the caller's (a client that carries its own state, such as the refresh
 * token it spends next), each completed step's latency, and the platform process's CPU time.
 */
import type http from "node:http";
import { keepAliveAgent } from "./http-client.js";
import { cpuMsOf, sleep } from "./proc.js";

/** One timed window of a closed loop. */
export interface Window {
  readonly perSecond: number;
  readonly completed: number;
  readonly errors: number;
  /** CPU time of the platform process (all its threads) per completed request, µs. */
  readonly platformCpuUs: number;
  /** The load generator's (this process's) CPU per completed request, µs. */
  readonly clientCpuUs: number;
  /** Each completed request's latency, ms. */
  readonly latencies: number[];
}

/**
 * Closed loop: `clients` requests always in flight on one keep-alive agent, each `step`
 * followed at once by the next (`client` is its index); counts the steps that complete inside
 * the timed window, after `warmupMs`. A step answers whether it succeeded; one that throws
 * counts as failed.
 */
export async function closedLoop(
  o: { clients: number; warmupMs: number; durationMs: number; platformPid: number },
  step: (agent: http.Agent, client: number) => Promise<boolean>,
): Promise<Window> {
  const agent = keepAliveAgent(o.clients);
  let measuring = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  const latencies: number[] = [];
  const loop = async (client: number) => {
    while (!stopped) {
      const start = performance.now();
      const ok = await step(agent, client).catch(() => false);
      if (!measuring) continue;
      if (ok) {
        completed++;
        latencies.push(performance.now() - start);
      } else errors++;
    }
  };
  const loops = Array.from({ length: o.clients }, (_, i) => loop(i));
  await sleep(o.warmupMs);
  const cpuBefore = cpuMsOf(o.platformPid);
  const clientBefore = process.cpuUsage();
  const start = performance.now();
  measuring = true;
  await sleep(o.durationMs);
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  const platformMs = cpuMsOf(o.platformPid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  stopped = true;
  await Promise.all(loops);
  agent.destroy();
  const per = (us: number) => (completed === 0 ? 0 : us / completed);
  return {
    perSecond: completed / seconds,
    completed,
    errors,
    platformCpuUs: per(platformMs * 1000),
    clientCpuUs: per(client.user + client.system),
    latencies,
  };
}

/** A window without its samples, for the results file. */
export function strip(w: Window): Omit<Window, "latencies"> {
  const { latencies: _, ...rest } = w;
  return rest;
}
