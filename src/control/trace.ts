/**
 * An invocation's trace: its spans, derived from the few times its usage record keeps (so
 * that tracing costs the invocation's path nothing beyond the record it writes anyway).
 *
 *   invocation                      arrival → result
 *   ├─ gateway (sync)               request received → dispatcher takes it
 *   ├─ queue (async)                event accepted → this attempt taken from the queue
 *   ├─ dispatch                     dispatcher takes it → event handed to the instance
 *   │  └─ init (cold)               placement, code, sandbox, runtime, function init
 *   └─ function                     event handed → the runtime's answer (REPORT Duration)
 *
 * Times are epoch milliseconds with fractions. Trace ids are Lambda's X-Ray form
 * (`Root=1-{8 hex seconds}-{24 hex}`); OpenTelemetry's 32-hex id is the root's hex digits.
 */

import { INIT_PHASES } from "./report.js";
import type { UsageRecord } from "./usage-repo.js";

export interface Span {
  readonly name: string;
  /** Parent span's name (undefined for the root). */
  readonly parent: string | undefined;
  /** Epoch ms. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

export function spansOf(r: UsageRecord): Span[] {
  const start = r.startedAt;
  const end = start + r.totalMs;
  const root = Math.min(start, r.arrivedAt ?? start);
  const spans: Span[] = [
    {
      name: "invocation",
      parent: undefined,
      startMs: root,
      durationMs: end - root,
      attributes: {
        "faas.invocation_id": r.requestId,
        "faas.name": r.functionName,
        "faas.version": r.version,
        "faas.trigger": r.type === "async" ? "pubsub" : "http",
        "faas.coldstart": r.cold,
        "nimbus.outcome": r.outcome,
        "nimbus.memory_mb": r.memoryMb,
        "nimbus.billed_ms": r.billedMs,
      },
    },
  ];
  if (r.arrivedAt !== undefined)
    spans.push({
      name: r.type === "async" ? "queue" : "gateway",
      parent: "invocation",
      startMs: r.arrivedAt,
      durationMs: Math.max(0, start - r.arrivedAt),
    });
  const handed = r.handedAfterMs === undefined ? undefined : start + r.handedAfterMs;
  spans.push({ name: "dispatch", parent: "invocation", startMs: start, durationMs: (handed ?? end) - start });
  const p = r.initPhases;
  if (p) {
    // The phases ran one after the other and ended as the event was handed over.
    const phases: Array<[string, number]> = [];
    for (const [name, key] of INIT_PHASES) {
      const ms = p[key];
      if (ms !== undefined) phases.push([name, ms]);
    }
    const total = phases.reduce((t, [, ms]) => t + ms, 0);
    let at = (handed ?? end) - total;
    spans.push({
      name: "init",
      parent: "dispatch",
      startMs: at,
      durationMs: total,
      attributes: {
        "nimbus.pooled": p.pooled,
        "nimbus.restored": p.restored ?? false,
        "nimbus.code_cached": p.codeCached,
      },
    });
    for (const [name, ms] of phases) {
      spans.push({ name: `init:${name}`, parent: "init", startMs: at, durationMs: ms });
      at += ms;
    }
  }
  if (handed !== undefined)
    spans.push({ name: "function", parent: "invocation", startMs: handed, durationMs: r.durationMs });
  return spans;
}

/** The trace header's root (`1-5759e988-bd862e3fe1be46a994272793`), or undefined. */
export function traceRoot(header: string): string | undefined {
  return /(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/.exec(header)?.[1];
}

/** OpenTelemetry's trace id for an X-Ray root: its 32 hex digits (as AWS's propagator maps it). */
export function otelTraceId(root: string): string {
  return root.slice(2).replace("-", "");
}
