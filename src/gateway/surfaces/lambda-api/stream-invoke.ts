/**
 * Lambda's InvokeWithResponseStream: `POST /2021-11-15/functions/{name}/response-streaming-invocations`,
 * answered with the function's response as it is written, in event-stream messages
 * (`PayloadChunk`s, then `InvokeComplete` with the error, if any, and the log tail).
 */
import type { Hono } from "hono";
import type { InvokeService, StreamingInvokeOutput } from "../../../control/invoke-service.js";
import { initPhasesHeader } from "../../../control/report.js";
import { INIT_PHASES_HEADER } from "../../../protocol/invoke.js";
import { NimbusError } from "../../../shared/errors.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";
import * as decode from "./decode.js";
import { EVENT_STREAM_CONTENT_TYPE, type EventStreamEncoder, eventStreamEncoder } from "./event-stream.js";

export const STREAM_INVOKE_PATH = "/2021-11-15/functions/:name/response-streaming-invocations";

/** What the route uses of the Lambda API's dependencies (read when a request comes, not before). */
export interface StreamInvokeDeps {
  /** Epoch ms now (the platform's clock). */
  readonly now: () => number;
  readonly invoke: InvokeService;
}

/**
 * Adds the InvokeWithResponseStream route to the Lambda API's routes; `traceHeader` is Invoke's
 * reading of the caller's trace header (a root to join, else undefined: a new trace).
 */
export function streamInvokeRoute(
  app: Hono<SurfaceEnv>,
  d: StreamInvokeDeps,
  traceHeader: (h: string | undefined) => string | undefined,
): void {
  app.post(STREAM_INVOKE_PATH, async (c) => {
    const receivedAt = d.now();
    const payload = bodyOf(c);
    const type = c.req.header("x-amz-invocation-type") ?? "RequestResponse";
    if (type !== "RequestResponse" && type !== "DryRun") {
      throw new NimbusError(
        "InvalidParameter",
        `InvocationType must be RequestResponse or DryRun for InvokeWithResponseStream, got ${type}`,
      );
    }
    const ref = decode.functionRef(c.req.param("name"), c.req.query("Qualifier"));
    const input = {
      functionName: ref.name,
      qualifier: ref.qualifier,
      payload,
      clientContextBase64: c.req.header("x-amz-client-context"),
      traceId: traceHeader(c.req.header("x-amzn-trace-id")),
      receivedAt,
    };
    if (type === "DryRun") {
      const out = await d.invoke.invoke({ ...input, dryRun: true });
      return new Response(null, { status: 204, headers: answerHeaders(out) });
    }
    // Loaded before the function runs, so that no chunk waits for it.
    const encoder = await eventStreamEncoder();
    const out = await d.invoke.invokeStreaming(input);
    const headers: Record<string, string> = {
      ...answerHeaders(out),
      "content-type": EVENT_STREAM_CONTENT_TYPE,
    };
    // As on Invoke; by the first byte Init is over, so a cold start's phases are known.
    if (out.initPhases) headers[INIT_PHASES_HEADER] = initPhasesHeader(out.initPhases);
    return new Response(events(out, encoder, c.req.header("x-amz-log-type") === "Tail"), {
      status: 200,
      headers,
    });
  });
}

function answerHeaders(out: { requestId: string; executedVersion: string }): Record<string, string> {
  return { "x-amzn-requestid": out.requestId, "x-amz-executed-version": out.executedVersion };
}

/**
 * The answer's body: a PayloadChunk per chunk as the function writes it, pulled as the caller
 * reads (so a slow caller slows the function's writes), then InvokeComplete once the
 * invocation is over.
 */
function events(
  out: StreamingInvokeOutput,
  encoder: EventStreamEncoder,
  tail: boolean,
): ReadableStream<Uint8Array> {
  const reader = out.body.getReader();
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (ended) return;
        // Each pull enqueues one message: an empty chunk is skipped, not sent as an empty event.
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch {
            // The invocation failed: completion says how.
            break;
          }
          if (chunk.done) break;
          if (chunk.value.byteLength === 0) continue;
          controller.enqueue(encoder.payloadChunk(chunk.value));
          return;
        }
        ended = true;
        controller.enqueue(encoder.invokeComplete(await complete(out, tail)));
        controller.close();
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

async function complete(out: StreamingInvokeOutput, tail: boolean) {
  try {
    const { error, result } = await out.completion;
    return {
      ...(error ? { ErrorCode: error.errorType, ErrorDetails: error.errorMessage } : {}),
      ...(tail ? { LogResult: Buffer.from(result.logTail).toString("base64") } : {}),
    };
  } catch {
    // The platform failed mid-stream: the caller learns that the response is incomplete.
    return {
      ErrorCode: "ServiceException",
      ErrorDetails: "The platform failed while the response was streaming.",
    };
  }
}
