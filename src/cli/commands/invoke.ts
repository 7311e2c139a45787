/** `nimbus invoke NAME --payload JSON|@file`: runs a function and prints its result and REPORT line. */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { INIT_PHASES_HEADER } from "../../protocol/invoke.js";
import { NimbusClient, resolveClientOptions } from "../client.js";

export async function invoke(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      payload: { type: "string" },
      qualifier: { type: "string" },
      endpoint: { type: "string" },
      data: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      async: { type: "boolean" },
    },
  });
  const name = positionals[0];
  if (!name)
    throw new Error(
      "usage: nimbus invoke NAME [--payload JSON|@file.json] [--qualifier VERSION|ALIAS] [--async]",
    );
  const payload = values.payload?.startsWith("@")
    ? await readFile(values.payload.slice(1))
    : Buffer.from(values.payload ?? "");
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  if (values.async) {
    const res = await client.call("POST", `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
      body: payload,
      headers: { "x-amz-invocation-type": "Event" },
      ...(values.qualifier ? { query: { Qualifier: values.qualifier } } : {}),
    });
    const id = res.headers.get("x-amzn-requestid") ?? "";
    process.stdout.write(`${id}\n`);
    if (!values.quiet) process.stderr.write(`queued; follow it with: nimbus invocations show ${id}\n`);
    return 0;
  }
  const res = await client.call("POST", `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
    body: payload,
    headers: { "x-amz-log-type": "Tail" },
    ...(values.qualifier ? { query: { Qualifier: values.qualifier } } : {}),
  });
  const body = await res.text();
  const failed = res.headers.get("x-amz-function-error");
  process.stdout.write(`${body}\n`);
  const tail = Buffer.from(res.headers.get("x-amz-log-result") ?? "", "base64").toString();
  if (!values.quiet) {
    const report = tail.split("\n").find((l) => l.startsWith("REPORT"));
    if (failed) process.stderr.write(`${tail}`);
    else if (report) process.stderr.write(`${report}\n`);
    const phases = res.headers.get(INIT_PHASES_HEADER);
    if (phases) process.stderr.write(`${describePhases(phases)}\n`);
  }
  return failed ? 1 : 0;
}

/** `placement=0.12; code=0.03; code-cached=1; …` → "Cold start: placement 0.12 ms, code 0.03 ms (cached), …". */
export function describePhases(header: string): string {
  const parts: string[] = [];
  let cached = false;
  let pooled = false;
  let restored = false;
  for (const pair of header.split(";")) {
    const [name = "", value = ""] = pair.trim().split("=");
    if (name === "code-cached") cached = value === "1";
    else if (name === "pooled") pooled = value === "1";
    else if (name === "restored") restored = value === "1";
    else if (name) parts.push(`${name.replace("-", " ")} ${value} ms`);
  }
  const note = (p: string) =>
    p.startsWith("code ")
      ? `${p} (${cached ? "cached" : "fetched"})`
      : p.startsWith("sandbox ") && pooled
        ? `${p} (from the warm pool)`
        : p.startsWith("runtime ") && restored
          ? `${p} (restored from the snapshot)`
          : p;
  return `Cold start: ${parts.map(note).join(", ")}`;
}
