/**
 * Export of invocation traces to an OpenTelemetry collector over OTLP/HTTP, when configured
 * (`--otlp-endpoint`). Each usage record's spans (`trace.ts`) become OpenTelemetry spans with
 * their recorded times, in the trace the X-Ray style header names: its root's hex digits are
 * the trace id (as AWS's own propagator maps it), its Parent the remote parent span. Batched
 * and sent by OpenTelemetry's SDK, off the invocation's path.
 */
import { type Context, context, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  type IdGenerator,
  RandomIdGenerator,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { otelTraceId, spansOf, traceRoot } from "./trace.js";
import type { UsageRecord } from "./usage-repo.js";

/** How long finished spans wait to be sent together. */
const EXPORT_DELAY_MS = 1000;

/** Root spans get the trace id of the invocation's X-Ray root, not a random one. */
class InvocationIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  next: string | undefined;
  generateTraceId(): string {
    return this.next ?? this.#random.generateTraceId();
  }
  generateSpanId(): string {
    return this.#random.generateSpanId();
  }
}

export class OtlpTraces {
  readonly #provider: TracerProvider;
  readonly #ids = new InvocationIds();
  readonly #tracer;

  constructor(o: { endpoint: string; serviceName: string; delayMs?: number }) {
    const exporter = new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/$/, "")}/v1/traces` });
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ "service.name": o.serviceName }),
      sampler: new AlwaysOnSampler(),
      idGenerator: this.#ids,
      spanProcessors: [
        new BatchSpanProcessor({ exporter, scheduledDelayMillis: o.delayMs ?? EXPORT_DELAY_MS }),
      ],
    });
    this.#tracer = this.#provider.getTracer("nimbus");
  }

  /** Queues one invocation's spans for export. */
  export(r: UsageRecord): void {
    const root = traceRoot(r.traceId);
    const traceId = root ? otelTraceId(root) : undefined;
    const parentId = /(?:^|;)\s*Parent=([0-9a-f]{16})/.exec(r.traceId)?.[1];
    let parent: Context = context.active();
    if (traceId && parentId)
      parent = trace.setSpanContext(parent, {
        traceId,
        spanId: parentId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
    const made = new Map<string, Context>();
    for (const s of spansOf(r)) {
      const ctx = s.parent === undefined ? parent : (made.get(s.parent) ?? parent);
      this.#ids.next = traceId;
      const span = this.#tracer.startSpan(
        s.name,
        {
          startTime: s.startMs,
          kind: s.parent === undefined ? SpanKind.SERVER : SpanKind.INTERNAL,
          ...(s.attributes ? { attributes: s.attributes } : {}),
        },
        ctx,
      );
      this.#ids.next = undefined;
      if (s.name === "invocation" && r.outcome !== "success")
        span.setStatus({ code: SpanStatusCode.ERROR, message: r.outcome });
      span.end(s.startMs + s.durationMs);
      made.set(s.name, trace.setSpan(parent, span));
    }
  }

  /** Sends what is queued and stops. */
  async close(): Promise<void> {
    await this.#provider.shutdown();
  }
}
