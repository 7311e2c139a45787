/** `nimbus invocations show|ls|redrive`: the records of asynchronous invocations. */
import { parseArgs } from "node:util";
import { NimbusClient, resolveClientOptions } from "../client.js";

interface Record {
  requestId: string;
  function: string;
  qualifier: string | null;
  status: string;
  attempts: number;
  acceptedAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  result: unknown;
  error: unknown;
}

const USAGE =
  "usage: nimbus invocations show REQUEST_ID | ls [--function NAME] [--status queued|running|retrying|succeeded|failed] [--limit N] | redrive REQUEST_ID";

export async function invocations(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      function: { type: "string" },
      status: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const [sub, id] = positionals;
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const print = (r: Record) => {
    if (values.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    const lines = [
      `${r.requestId}  ${r.function}${r.qualifier ? `:${r.qualifier}` : ""}  ${r.status}  attempts ${r.attempts}`,
      `  accepted ${r.acceptedAt}, updated ${r.updatedAt}${r.nextAttemptAt ? `, next attempt ${r.nextAttemptAt}` : ""}`,
    ];
    if (r.error !== null) lines.push(`  error  ${JSON.stringify(r.error)}`);
    if (r.result !== null) lines.push(`  result ${JSON.stringify(r.result)}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  };
  switch (sub) {
    case "show": {
      if (!id) throw new Error(USAGE);
      const res = await client.call("GET", `/nimbus/v1/invocations/${encodeURIComponent(id)}`);
      print((await res.json()) as Record);
      return 0;
    }
    case "ls": {
      const query: { [k: string]: string } = {};
      if (values.function) query.function = values.function;
      if (values.status) query.status = values.status;
      if (values.limit) query.limit = values.limit;
      const res = await client.call("GET", "/nimbus/v1/invocations", { query });
      for (const r of ((await res.json()) as { invocations: Record[] }).invocations) print(r);
      return 0;
    }
    case "redrive": {
      if (!id) throw new Error(USAGE);
      const res = await client.call("POST", `/nimbus/v1/invocations/${encodeURIComponent(id)}/redrive`);
      print((await res.json()) as Record);
      return 0;
    }
    default:
      throw new Error(USAGE);
  }
}
