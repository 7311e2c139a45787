/**
 * `nimbus top`: a live view of the platform, per function, from two scrapes of `/metrics`:
 * invocations and errors per second, p50 and p99 duration, cold starts, instances, the async
 * backlog. Refreshes every `--interval` seconds; `--once` prints one view and exits.
 */
import { parseArgs } from "node:util";
import { NimbusClient, resolveClientOptions } from "../client.js";
import { buckets, parseExposition, quantile, type Sample, sumBy } from "../prometheus-text.js";

const USAGE = "usage: nimbus top [--interval SECONDS] [--once]";
const DURATION = "nimbus_invocation_duration_seconds";

export async function top(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      interval: { type: "string" },
      once: { type: "boolean" },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const seconds = Number(values.interval ?? "2");
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600)
    throw new Error(
      `${USAGE}\n--interval must be a number of seconds from 0.1 to 3600, got ${values.interval}`,
    );
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const scrape = async () => ({
    at: performance.now(),
    samples: parseExposition(await (await client.call("GET", "/metrics")).text()),
  });
  let before = await scrape();
  const live = !values.once && process.stdout.isTTY;
  for (;;) {
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await scrape();
    const view = render(before.samples, after.samples, (after.at - before.at) / 1000);
    process.stdout.write(live ? `\x1b[H\x1b[2J${view}` : view);
    if (values.once) return 0;
    before = after;
  }
}

/** One view: a line per function seen in either scrape, busiest first. */
export function render(before: readonly Sample[], after: readonly Sample[], seconds: number): string {
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
  const functions = new Set<string>();
  for (const s of [...before, ...after])
    if (s.name.startsWith("nimbus_") && s.labels.function) functions.add(s.labels.function);
  const rows = [...functions]
    .map((fn) => {
      const n = calls(fn);
      const p = (q: number) =>
        quantile(q, buckets(before, DURATION, "function", fn), buckets(after, DURATION, "function", fn));
      return {
        fn,
        n,
        cells: [
          fn,
          (n / seconds).toFixed(1),
          (errors(fn) / seconds).toFixed(1),
          (throttles(fn) / seconds).toFixed(1),
          ms(p(0.5)),
          ms(p(0.99)),
          n > 0 ? `${((100 * colds(fn)) / n).toFixed(0)}%` : "-",
          `${busy.get(fn) ?? 0}/${(busy.get(fn) ?? 0) + (idle.get(fn) ?? 0)}`,
          String(queued.get(fn) ?? 0),
        ],
      };
    })
    .sort((a, b) => b.n - a.n || a.fn.localeCompare(b.fn));
  const head = ["FUNCTION", "INV/S", "ERR/S", "THR/S", "P50", "P99", "COLD", "BUSY/INST", "QUEUED"];
  const table = [head, ...rows.map((r) => r.cells)];
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")}\n`;
  const total = [...functions].reduce((t, fn) => t + calls(fn), 0);
  const pool = after.find((s) => s.name === "nimbus_warm_pool_runtimes")?.value ?? 0;
  let out = `Nimbus: ${(total / seconds).toFixed(1)} invocations/s over ${seconds.toFixed(1)} s, ${pool} runtimes in the warm pool\n\n`;
  for (const r of table) out += line(r);
  if (rows.length === 0) out += "(no functions have run yet)\n";
  return out;
}

function ms(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  const v = seconds * 1000;
  return `${v < 10 ? v.toFixed(2) : v.toFixed(0)}ms`;
}
