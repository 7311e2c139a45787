/** `nimbus budget`: monthly spending caps, per function and for the platform. */
import { parseArgs } from "node:util";
import { NimbusClient, resolveClientOptions } from "../client.js";

const USAGE =
  "usage: nimbus budget set NAME|--platform --monthly USD | ls | rm NAME|--platform   (USD per calendar month, UTC)";

interface Budget {
  scope: "function" | "platform";
  function?: string;
  monthlyUsd: number;
  spentUsd: number;
  exceeded: boolean;
}

export async function budget(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      monthly: { type: "string" },
      platform: { type: "boolean" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const [sub, name] = positionals;
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const path = () => {
    if (values.platform === (name !== undefined))
      throw new Error(`${USAGE}\nname a function or give --platform`);
    return values.platform
      ? "/nimbus/v1/budgets/platform"
      : `/nimbus/v1/budgets/functions/${encodeURIComponent(name!)}`;
  };
  const print = (b: Budget) =>
    process.stdout.write(
      values.json
        ? `${JSON.stringify(b)}\n`
        : `${b.scope === "platform" ? "platform" : b.function}: ${b.monthlyUsd.toFixed(2)} USD a month, ` +
            `${b.spentUsd.toFixed(4)} spent this month${b.exceeded ? " (EXCEEDED: invocations are refused)" : ""}\n`,
    );
  switch (sub) {
    case "set": {
      const monthly = Number(values.monthly);
      if (values.monthly === undefined || !Number.isFinite(monthly))
        throw new Error(`${USAGE}\n--monthly must be a number of US dollars, e.g. --monthly 5.00`);
      const res = await client.call("PUT", path(), { body: JSON.stringify({ monthlyUsd: monthly }) });
      print((await res.json()) as Budget);
      return 0;
    }
    case "ls": {
      const res = await client.call("GET", "/nimbus/v1/budgets");
      const { budgets } = (await res.json()) as { budgets: Budget[] };
      if (budgets.length === 0 && !values.json) process.stdout.write("no budgets\n");
      for (const b of budgets) print(b);
      return 0;
    }
    case "rm":
      await client.call("DELETE", path());
      return 0;
    default:
      throw new Error(USAGE);
  }
}
