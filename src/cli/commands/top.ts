/**
 * `nimbus top`: a live view of the platform, per function, from two scrapes of `/metrics`:
 * invocations and errors per second, p50 and p99 duration, cold starts, instances, the async
 * backlog. Refreshes every `--interval` seconds; `--once` prints one view and exits.
 */
import { Command, InvalidArgumentError } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { buckets, parseExposition, quantile, type Sample, sumBy } from "../prometheus-text.js";

const DURATION = "nimbus_invocation_duration_seconds";

/** One view, as --json prints it (one object a line, one line per refresh). */
export interface TopView {
  seconds: number;
  invocationsPerSecond: number;
  warmPoolRuntimes: number;
  functions: Array<{
    function: string;
    invocationsPerSecond: number;
    errorsPerSecond: number;
    throttlesPerSecond: number;
    p50Ms: number | null;
    p99Ms: number | null;
    coldStartRatio: number | null;
    busyInstances: number;
    instances: number;
    queued: number;
  }>;
}

export function topCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("top")
        .summary("live view per function: invocations/s, errors, p50/p99, cold %, instances")
        .description(
          "A live view of the platform from two scrapes of /metrics: per function, invocations, errors " +
            "and throttles per second, p50 and p99 duration, cold starts, instances, queued async events.\n\n" +
            "--json prints one object a line per refresh (see docs/observability.md).",
        )
        .option("--interval <seconds>", "time between refreshes, 0.1 to 3600", interval, 2)
        .option("--once", "print one view and exit"),
    ),
  ).action(
    ctx.action(async (o: Flags<{ interval: number; once?: boolean }>) => {
      const client = ctx.client(o);
      const scrape = async () => ({
        at: performance.now(),
        samples: parseExposition(await (await client.call("GET", "/metrics")).text()),
      });
      let before = await scrape();
      const live = !o.once && !o.json && ctx.stdout.isTTY === true;
      for (;;) {
        await new Promise((r) => setTimeout(r, o.interval * 1000));
        const after = await scrape();
        const v = view(before.samples, after.samples, (after.at - before.at) / 1000);
        if (o.json) ctx.stdout.write(`${JSON.stringify(v)}\n`);
        else ctx.stdout.write(live ? `\x1b[H\x1b[2J${render(v)}` : render(v));
        if (o.once) return 0;
        before = after;
      }
    }),
  );
}

function interval(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0.1 || n > 3600)
    throw new InvalidArgumentError("expected a number of seconds from 0.1 to 3600");
  return n;
}

/** The figures of one view: a row per function seen in either scrape, busiest first. */
export function view(before: readonly Sample[], after: readonly Sample[], seconds: number): TopView {
  const delta = (name: string, label: string, where: Record<string, string> = {}) => {
    const a = sumBy(after, name, label, where);
    const b = sumBy(before, name, label, where);
    return (key: string) => Math.max(0, (a.get(key) ?? 0) - (b.get(key) ?? 0));
  };
  const calls = delta("nimbus_invocations_total", "function");
  const errors = delta("nimbus_invocation_errors_total", "function");
  const throttles = delta("nimbus_throttles_total", "function");
  const colds = delta("nimbus_cold_starts_total", "function");
  const gauge = (name: string, label: string, where: Record<string, string> = {}) =>
    sumBy(after, name, label, where);
  const busy = gauge("nimbus_instances", "function", { state: "busy" });
  const idle = gauge("nimbus_instances", "function", { state: "idle" });
  const queued = gauge("nimbus_async_queue_depth", "function");
  const names = new Set<string>();
  for (const s of [...before, ...after])
    if (s.name.startsWith("nimbus_") && s.labels.function) names.add(s.labels.function);
  const ms = (q: number, fn: string) => {
    const s = quantile(
      q,
      buckets(before, DURATION, "function", fn),
      buckets(after, DURATION, "function", fn),
    );
    return s === undefined ? null : s * 1000;
  };
  const functions = [...names]
    .map((fn) => {
      const n = calls(fn);
      return {
        function: fn,
        invocationsPerSecond: n / seconds,
        errorsPerSecond: errors(fn) / seconds,
        throttlesPerSecond: throttles(fn) / seconds,
        p50Ms: ms(0.5, fn),
        p99Ms: ms(0.99, fn),
        coldStartRatio: n > 0 ? colds(fn) / n : null,
        busyInstances: busy.get(fn) ?? 0,
        instances: (busy.get(fn) ?? 0) + (idle.get(fn) ?? 0),
        queued: queued.get(fn) ?? 0,
      };
    })
    .sort((a, b) => b.invocationsPerSecond - a.invocationsPerSecond || a.function.localeCompare(b.function));
  return {
    seconds,
    invocationsPerSecond: functions.reduce((t, f) => t + f.invocationsPerSecond, 0),
    warmPoolRuntimes: after.find((s) => s.name === "nimbus_warm_pool_runtimes")?.value ?? 0,
    functions,
  };
}

/** One view as the terminal shows it. */
export function render(v: TopView): string {
  const head = ["FUNCTION", "INV/S", "ERR/S", "THR/S", "P50", "P99", "COLD", "BUSY/INST", "QUEUED"];
  const rows = v.functions.map((f) => [
    f.function,
    f.invocationsPerSecond.toFixed(1),
    f.errorsPerSecond.toFixed(1),
    f.throttlesPerSecond.toFixed(1),
    ms(f.p50Ms),
    ms(f.p99Ms),
    f.coldStartRatio === null ? "-" : `${(100 * f.coldStartRatio).toFixed(0)}%`,
    `${f.busyInstances}/${f.instances}`,
    String(f.queued),
  ]);
  let out = `Nimbus: ${v.invocationsPerSecond.toFixed(1)} invocations/s over ${v.seconds.toFixed(1)} s, ${v.warmPoolRuntimes} runtimes in the warm pool\n\n`;
  out += table(head, rows, [1, 2, 3, 4, 5, 6, 7, 8]);
  if (rows.length === 0) out += "(no functions have run yet)\n";
  return out;
}

function ms(v: number | null): string {
  if (v === null) return "-";
  return `${v < 10 ? v.toFixed(2) : v.toFixed(0)}ms`;
}
