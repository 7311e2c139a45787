/** `nimbus cost`: usage and its cost per function, version or day, as a table. */
import { parseArgs } from "node:util";
import type { UsageReport, UsageRow } from "../../control/usage-report.js";
import { NimbusClient, resolveClientOptions } from "../client.js";

export const COST_USAGE =
  "usage: nimbus cost [--function NAME] [--by function|version|day] [--from DATE] [--to DATE] [--json]";

export async function cost(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      function: { type: "string" },
      by: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const query: Record<string, string> = {};
  if (values.function) query.function = values.function;
  if (values.by) query.groupBy = values.by;
  if (values.from) query.from = values.from;
  if (values.to) query.to = values.to;
  const res = await client.call("GET", "/nimbus/v1/usage", { query });
  const report = (await res.json()) as Omit<UsageReport, "from" | "to"> & { from: string; to: string };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(costTable(report));
  return 0;
}

/** The report as the terminal shows it: one line per group, then the total. */
export function costTable(r: Omit<UsageReport, "from" | "to"> & { from: string; to: string }): string {
  const label = (row: Partial<UsageRow>) =>
    r.groupBy === "day"
      ? (row.day ?? "")
      : r.groupBy === "version"
        ? `${row.function}:${row.version}`
        : (row.function ?? "");
  const head = [r.groupBy.toUpperCase(), "REQUESTS", "ERRORS", "COLD", "GB-S", "PROV GB-S", "COST (USD)"];
  const line = (
    name: string,
    row: Omit<UsageRow, "function" | "version" | "day">,
    total = row.cost.total,
  ) => [
    name,
    int(row.requests),
    int(row.errors),
    int(row.coldStarts),
    num(row.gbSeconds + row.provisionedDurationGbSeconds),
    num(row.provisionedGbSeconds),
    usd(total),
  ];
  const rows = r.rows.map((row) => line(label(row), row));
  const total = line("TOTAL", r.total);
  const widths = head.map((h, i) => Math.max(h.length, ...[...rows, total].map((c) => c[i]!.length)));
  const fmt = (cells: string[]) =>
    `${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")}\n`;
  let out = `Usage from ${r.from} to ${r.to}\n\n${fmt(head)}`;
  for (const row of rows) out += fmt(row);
  if (rows.length === 0) out += "(no invocations in this window)\n";
  out += fmt(total);
  const c = r.total.cost;
  out += `\nrequests ${usd(c.requests)} + duration ${usd(c.duration)} + provisioned ${usd(c.provisioned)}`;
  if (r.total.freeTier) out += ` - free tier ${usd(r.total.freeTier.credit)}`;
  out += ` = ${usd(c.total)}\n`;
  return out;
}

function int(n: number): string {
  return n.toLocaleString("en-US");
}

function num(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 3, minimumFractionDigits: 3 });
}

/** Dollars to the cent, or to 8 decimals when less: one request costs 0.0000002. */
function usd(n: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: n >= 1 ? 2 : 8 });
}
