/** `nimbus invoke NAME --payload JSON|@file`: runs a function and prints its result and REPORT line. */
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { INIT_PHASES_HEADER, type InitPhases } from "../../protocol/invoke.js";
import { jsonOrText } from "../../shared/json-or-text.js";
import type { ConnectionFlags, NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type InvokeComplete, readInvokeEvents } from "../event-stream-reader.js";
import { withConnection, withJson } from "../options.js";
import { UsageError } from "../usage-error.js";
import { functionPath } from "./functions.js";
import { callUrl } from "./urls.js";

interface InvokeOptions extends ConnectionFlags {
  path?: string;
  method?: string;
  header?: string[];
  payload?: string;
  qualifier?: string;
  quiet?: boolean;
  async?: boolean;
  stream?: boolean;
  json?: boolean;
}

export function invokeCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("invoke")
        .summary("invoke a function")
        .description(
          "Invoke a function and print its result on stdout, its REPORT line on stderr (the whole log tail " +
            "when it failed, with exit code 1) and, after a cold start, where the start's time went.\n\n" +
            "--json prints one object: RequestId, StatusCode, ExecutedVersion, FunctionError (null when it " +
            "succeeded), Payload (the result, parsed when it is JSON), LogTail, InitPhases (null when warm). " +
            "With --async: RequestId and StatusCode (202).\n\n" +
            "--stream reads the answer with InvokeWithResponseStream: each chunk the function writes is printed " +
            "as it arrives; with --json, one object at the end: RequestId, ExecutedVersion, Payload (the chunks " +
            "as text), ErrorCode and ErrorDetails (null when it succeeded), LogTail, InitPhases.",
        )
        .argument("<name>", "the function's name or ARN")
        .option("--payload <json|@file>", "the event: JSON, or @FILE to read it from a file")
        .option("--qualifier <version|alias>", "a published version or an alias instead of $LATEST")
        .option(
          "--async",
          "queue the event (InvocationType Event) and print its request id once it is durable",
        )
        .option(
          "--stream",
          "read the response as the function streams it (InvokeWithResponseStream), printing each chunk as it arrives",
        )
        .option("-q, --quiet", "print only the result")
        .option(
          "--path <path>",
          "call the function's URL at this path (an HTTP request; --payload is its body) instead of the Invoke API",
        )
        .option("-X, --method <method>", "with --path: the HTTP method (default GET, or POST with --payload)")
        .option(
          "-H, --header <name: value>",
          "with --path: a request header; repeatable",
          (v: string, p?: string[]) => [...(p ?? []), v],
        ),
    ),
  ).action(
    ctx.action(async (name: string, o: InvokeOptions) => {
      if (o.path !== undefined) {
        if (o.stream)
          throw new UsageError(
            "--stream reads InvokeWithResponseStream's answer and cannot go with --path (an HTTP request to the function's URL)",
          );
        const { payload, ...rest } = o;
        return callUrl(ctx, ctx.client(o), name, o.path, {
          ...rest,
          ...(payload === undefined ? {} : { body: payload }),
        });
      }
      const payload = o.payload?.startsWith("@")
        ? await readFile(o.payload.slice(1))
        : Buffer.from(o.payload ?? "");
      const client = ctx.client(o);
      const path = functionPath(name, "invocations");
      const query = o.qualifier ? { query: { Qualifier: o.qualifier } } : {};
      if (o.stream && o.async)
        throw new UsageError(
          "--stream and --async cannot go together: an event queued has no answer to stream",
        );
      if (o.stream) return invokeStreamed(ctx, client, name, payload, o);
      if (o.async) {
        const res = await client.call("POST", path, {
          body: payload,
          headers: { "x-amz-invocation-type": "Event" },
          ...query,
        });
        const id = res.headers.get("x-amzn-requestid") ?? "";
        if (o.json) ctx.json({ RequestId: id, StatusCode: res.status });
        else ctx.stdout.write(`${id}\n`);
        if (!o.quiet && !o.json) ctx.stderr.write(`queued; follow it with: nimbus invocations show ${id}\n`);
        return 0;
      }
      const res = await client.call("POST", path, {
        body: payload,
        headers: { "x-amz-log-type": "Tail" },
        ...query,
      });
      const body = await res.text();
      const failed = res.headers.get("x-amz-function-error");
      const tail = Buffer.from(res.headers.get("x-amz-log-result") ?? "", "base64").toString();
      const phases = res.headers.get(INIT_PHASES_HEADER);
      if (o.json) {
        ctx.json({
          RequestId: res.headers.get("x-amzn-requestid"),
          StatusCode: res.status,
          ExecutedVersion: res.headers.get("x-amz-executed-version"),
          FunctionError: failed,
          Payload: jsonOrText(body),
          LogTail: tail,
          InitPhases: phases ? parsePhases(phases) : null,
        });
        return failed ? 1 : 0;
      }
      ctx.stdout.write(`${body}\n`);
      if (!o.quiet) {
        const report = tail.split("\n").find((l) => l.startsWith("REPORT"));
        if (failed) ctx.stderr.write(`${tail}`);
        else if (report) ctx.stderr.write(`${report}\n`);
        if (phases) ctx.stderr.write(`${describePhases(phases)}\n`);
      }
      return failed ? 1 : 0;
    }),
  );
}

/** InvokeWithResponseStream's path: an API version of its own, as on Lambda. */
function streamPath(name: string): string {
  return `/2021-11-15/functions/${encodeURIComponent(name)}/response-streaming-invocations`;
}

/**
 * `invoke --stream`: each PayloadChunk goes to stdout as it arrives (the function may still be
 * running), then the REPORT line (the whole log tail when it failed) on stderr.
 */
async function invokeStreamed(
  ctx: CliContext,
  client: NimbusClient,
  name: string,
  payload: Buffer,
  o: InvokeOptions,
): Promise<number> {
  const res = await client.call("POST", streamPath(name), {
    body: payload,
    headers: { "x-amz-log-type": "Tail" },
    ...(o.qualifier ? { query: { Qualifier: o.qualifier } } : {}),
  });
  const chunks: Uint8Array[] = [];
  let complete: InvokeComplete | undefined;
  if (res.body) {
    for await (const event of readInvokeEvents(res.body as unknown as AsyncIterable<Uint8Array>)) {
      if (event.type === "InvokeComplete") complete = event.complete;
      else if (o.json) chunks.push(event.payload);
      else ctx.stdout.write(event.payload);
    }
  }
  // Without InvokeComplete the answer was cut short: what arrived may not be the whole response.
  const errorCode = complete ? complete.ErrorCode : "Nimbus.IncompleteStream";
  const errorDetails = complete
    ? complete.ErrorDetails
    : "the answer ended before InvokeComplete: the response may be incomplete";
  const tail = Buffer.from(complete?.LogResult ?? "", "base64").toString();
  const phases = res.headers.get(INIT_PHASES_HEADER);
  if (o.json) {
    ctx.json({
      RequestId: res.headers.get("x-amzn-requestid"),
      ExecutedVersion: res.headers.get("x-amz-executed-version"),
      Payload: Buffer.concat(chunks).toString("utf8"),
      ErrorCode: errorCode ?? null,
      ErrorDetails: errorDetails ?? null,
      LogTail: tail,
      InitPhases: phases ? parsePhases(phases) : null,
    });
    return errorCode ? 1 : 0;
  }
  if (errorCode) ctx.stderr.write(`${errorCode}: ${errorDetails ?? ""}\n`);
  if (!o.quiet) {
    const report = tail.split("\n").find((l) => l.startsWith("REPORT"));
    if (errorCode) ctx.stderr.write(tail);
    else if (report) ctx.stderr.write(`${report}\n`);
    if (phases) ctx.stderr.write(`${describePhases(phases)}\n`);
  }
  return errorCode ? 1 : 0;
}

/**
 * `placement=0.12; code=0.03; code-cached=1; …` → an invocation record's initPhases, with
 * every key present (null when the phase was not measured), so scripts can rely on them.
 */
export function parsePhases(header: string): Record<keyof InitPhases, number | boolean | null> {
  const f = new Map(header.split(";").map((p) => p.trim().split("=") as [string, string]));
  const ms = (k: string) => (f.has(k) ? Number(f.get(k)) : null);
  return {
    placementMs: ms("placement"),
    codeMs: ms("code"),
    codeCached: f.get("code-cached") === "1",
    sandboxMs: ms("sandbox"),
    pooled: f.get("pooled") === "1",
    restored: f.get("restored") === "1",
    runtimeMs: ms("runtime"),
    functionInitMs: ms("function-init"),
  };
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
