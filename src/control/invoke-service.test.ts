import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionVersion } from "../protocol/function.js";
import type { InvokeOutcome } from "../protocol/invoke.js";
import { NimbusError } from "../shared/errors.js";
import type { Dispatcher, DispatchRequest } from "./dispatcher.js";
import { InvokeService } from "./invoke-service.js";
import type { Registry } from "./registry/registry.js";
import { figuresOf } from "./report.js";

const fn = { functionName: "f", version: "3", memoryMb: 128, timeoutS: 1 } as FunctionVersion;

/** An invoke service over a dispatcher whose instance does what `run` does with the request. */
function serviceRunning(run: (req: DispatchRequest) => Promise<InvokeOutcome>): InvokeService {
  const registry = { resolve: async () => ({ fn }) } as unknown as Registry;
  const dispatcher = {
    invoke: async (f: FunctionVersion, req: DispatchRequest) => ({
      outcome: await run(req),
      figures: figuresOf(f, req.requestId, 5, undefined, undefined),
      cold: false,
      logTail: "REPORT",
    }),
  } as unknown as Dispatcher;
  return new InvokeService({ registry, dispatcher, region: "us-east-1", accountId: "000000000000" });
}

const input = {
  functionName: "f",
  qualifier: undefined,
  payload: Buffer.from("{}"),
  clientContextBase64: undefined,
  traceId: undefined,
};

async function text(body: ReadableStream<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return Buffer.concat(parts).toString();
}

test("a streamed answer is handed over at the function's first byte, while the invocation still runs", async () => {
  let finish: () => void = () => {};
  const service = serviceRunning(async (req) => {
    req.stream!.start("text/plain");
    req.stream!.write(Buffer.from("first;"));
    await new Promise<void>((resolve) => {
      finish = resolve;
    });
    req.stream!.write(Buffer.from("last"));
    return { kind: "success", payload: Buffer.alloc(0) };
  });
  const out = await service.invokeStreaming(input);
  assert.equal(out.streamed, true);
  assert.equal(out.contentType, "text/plain");
  assert.equal(out.executedVersion, "3");
  const reader = out.body.getReader();
  assert.equal(Buffer.from((await reader.read()).value!).toString(), "first;");
  finish();
  assert.equal(Buffer.from((await reader.read()).value!).toString(), "last");
  assert.equal((await reader.read()).done, true);
  const { error, result } = await out.completion;
  assert.equal(error, undefined);
  assert.equal(result.figures.requestId, out.requestId);
});

test("a function that answers whole is the body, as JSON, its invocation over", async () => {
  const service = serviceRunning(async () => ({ kind: "success", payload: Buffer.from('{"ok":1}') }));
  const out = await service.invokeStreaming(input);
  assert.equal(out.streamed, false);
  assert.equal(out.contentType, "application/json");
  assert.equal(await text(out.body), '{"ok":1}');
  assert.equal((await out.completion).error, undefined);
});

test("a failure ends the body with its error after the bytes before it; completion tells it as Invoke would", async () => {
  const service = serviceRunning(async (req) => {
    req.stream!.start("application/octet-stream");
    req.stream!.write(Buffer.from("partial"));
    return { kind: "timeout", timeoutS: 1 };
  });
  const out = await service.invokeStreaming(input);
  const reader = out.body.getReader();
  assert.equal(Buffer.from((await reader.read()).value!).toString(), "partial");
  await assert.rejects(reader.read(), { name: "StreamedInvocationError", errorType: "Sandbox.Timedout" });
  const { error } = await out.completion;
  assert.equal(error?.errorType, "Sandbox.Timedout");
  assert.equal(error?.errorMessage, `RequestId: ${out.requestId} Error: Task timed out after 1.00 seconds`);
  assert.equal(JSON.parse(error?.payload.toString() ?? "").errorType, "Sandbox.Timedout");

  const before = serviceRunning(async () => ({
    kind: "error",
    errorType: "Runtime.Custom",
    payload: Buffer.from("not json"),
  }));
  const early = await before.invokeStreaming(input);
  assert.equal(early.streamed, false);
  await assert.rejects(text(early.body), { errorType: "Runtime.Custom" });
  assert.deepEqual((await early.completion).error?.errorMessage, "not json");
});

test("an invocation that cannot run rejects, before any body", async () => {
  const service = serviceRunning(async () => {
    throw new NimbusError("TooManyRequests", "Rate Exceeded.");
  });
  await assert.rejects(service.invokeStreaming(input), { code: "TooManyRequests" });
  await assert.rejects(service.invokeStreaming({ ...input, payload: Buffer.from("{") }), {
    code: "InvalidRequestContent",
  });
});
