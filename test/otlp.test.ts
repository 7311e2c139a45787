/** End to end: invocation traces exported over OTLP/HTTP to a collector (a real HTTP server here). */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { NimbusClient } from "../src/cli/client.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}
interface OtlpBody {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

const received: OtlpBody[] = [];
let collector: Server;
let t: TestPlatform | undefined;
before(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces" && req.headers["content-type"]?.startsWith("application/json"))
        received.push(JSON.parse(Buffer.concat(chunks).toString()) as OtlpBody);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const { port } = collector.address() as AddressInfo;
  t = await startPlatform({ poolSize: 0, otlpEndpoint: `http://127.0.0.1:${port}` });
});
after(async () => {
  await t?.close();
  collector.close();
});

test("an invocation's spans reach the collector, in the caller's trace, with their recorded times", async () => {
  const platform = t!;
  await createNodeFunction(platform.lambda, "exported", `export const handler = async () => "ok";`);
  const client = new NimbusClient({
    endpoint: platform.url,
    region: "us-east-1",
    ...platform.platform.credentials,
  });
  const header = "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
  const res = await client.request("POST", "/2015-03-31/functions/exported/invocations", {
    body: "{}",
    headers: { "x-amzn-trace-id": header },
  });
  assert.equal(res.status, 200);
  const requestId = res.headers.get("x-amzn-requestid")!;
  // Shutting down sends what is queued.
  await platform.close();
  t = undefined;

  const spans = received.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  const ours = spans.filter((s) => s.traceId === "6740a1b20123456789abcdef01234567");
  assert.deepEqual(ours.map((s) => s.name).sort(), [
    "dispatch",
    "function",
    "gateway",
    "init",
    "init:code",
    "init:function_init",
    "init:placement",
    "init:runtime",
    "init:sandbox",
    "invocation",
  ]);
  const byName = new Map(ours.map((s) => [s.name, s]));
  const root = byName.get("invocation")!;
  assert.equal(root.parentSpanId, "53995c3f42cd8ad8", "the caller's span is the parent");
  assert.equal(byName.get("function")!.parentSpanId, root.spanId);
  assert.equal(byName.get("init:runtime")!.parentSpanId, byName.get("init")!.spanId);
  const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;
  assert.deepEqual(attr(root, "faas.invocation_id"), { stringValue: requestId });
  assert.deepEqual(attr(root, "faas.coldstart"), { boolValue: true });
  const nanos = (v: string | number) => BigInt(v);
  assert.ok(nanos(root.endTimeUnixNano) > nanos(root.startTimeUnixNano));
  const resource = received[0]!.resourceSpans[0]!.resource.attributes;
  assert.equal(resource.find((a) => a.key === "service.name")?.value.stringValue, "nimbus");
});
