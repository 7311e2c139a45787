/** `nimbus cost`: usage and its cost per function, version or day, as a table. */
import { Command } from "commander";
import type { UsageReport, UsageRow } from "../../control/usage-report.js";
import type { CliContext } from "../context.js";
import { type Flags, oneOf, withConnection, withJson } from "../options.js";

type WireReport = Omit<UsageReport, "from" | "to"> & { from: string; to: string };

export function costCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("cost")
        .summary("usage and cost per function, version or day")
        .description(
          "Requests, errors, cold starts, GB-seconds and their cost at Lambda's prices, this month by default.\n\n" +
            "--json prints the Nimbus API's usage report (see docs/cost.md).",
        )
        .option("--function <name>", "one function only")
        .option(
          "--by <grouping>",
          "one line per function, version or day",
          oneOf("function", "version", "day"),
        )
        .option("--from <date>", "from this ISO date or time (default: the start of this month, UTC)")
        .option("--to <date>", "up to this ISO date or time (default: now)"),
    ),
  ).action(
    ctx.action(async (o: Flags<{ function?: string; by?: string; from?: string; to?: string }>) => {
      const query: Record<string, string> = {};
      if (o.function) query.function = o.function;
      if (o.by) query.groupBy = o.by;
      if (o.from) query.from = o.from;
      if (o.to) query.to = o.to;
      const report = await ctx.client(o).json<WireReport>("GET", "/nimbus/v1/usage", { query });
      if (o.json) ctx.json(report);
      else ctx.stdout.write(costTable(report));
      return 0;
    }),
  );
}

/** The report as the terminal shows it: one line per group, then the total. */
export function costTable(r: WireReport): string {
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
