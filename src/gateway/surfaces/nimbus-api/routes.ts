/**
 * Nimbus's own API, where no existing contract fits: function logs (query and follow),
 * invocation records of asynchronous invocations, and where the platform is (region, account).
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { EventStatus, InvocationRecords, QueuedEvent } from "../../../control/async/queue.js";
import type { LogService } from "../../../control/logs.js";
import type { ProvisionedSpan } from "../../../control/provisioned-repo.js";
import { spansOf } from "../../../control/trace.js";
import type { UsageRecord } from "../../../control/usage-repo.js";
import { NimbusError } from "../../../shared/errors.js";
import { jsonOrText } from "../../../shared/json-or-text.js";
import type { SurfaceEnv } from "../../surface.js";

const MAX_LOG_LIMIT = 10_000;

const EVENT_STATUSES: readonly EventStatus[] = ["queued", "running", "retrying", "succeeded", "failed"];

export function nimbusApi(d: {
  logs: LogService;
  records: InvocationRecords;
  /** Re-queues a failed event and wakes the poller; false if it was not failed. */
  redrive: (id: string) => Promise<boolean>;
  provisionedUptime: (functionName: string, from: number, to: number) => Promise<ProvisionedSpan[]>;
  /** The usage records (runs) of a request id, stored up to now. */
  runs: (requestId: string) => Promise<UsageRecord[]>;
  now?: () => number;
  /** Where the platform's ARNs say it is: what a template's AWS::Region and AWS::AccountId resolve to. */
  arn: { readonly region: string; readonly accountId: string };
}): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();

  // Lambda's API has no operation that answers the account id (GetAccountSettings does not):
  // without this a client learns it only from an existing function's ARN.
  app.get("/nimbus/v1/platform", (c) => c.json({ region: d.arn.region, accountId: d.arn.accountId }));

  app.get("/nimbus/v1/invocations", async (c) => {
    const status = c.req.query("status");
    if (status !== undefined && !EVENT_STATUSES.includes(status as EventStatus)) {
      throw new NimbusError(
        "InvalidParameter",
        `status must be one of ${EVENT_STATUSES.join(", ")}, got ${JSON.stringify(status)}`,
      );
    }
    const events = await d.records.list({
      functionName: c.req.query("function") || undefined,
      status: status as EventStatus | undefined,
      limit: intParam(c.req.query("limit"), 50, "limit", 1, 1000),
    });
    return c.json({ invocations: events.map(invocationRecord) });
  });

  app.post("/nimbus/v1/invocations/:id/redrive", async (c) => {
    const id = c.req.param("id");
    const event = await d.records.get(id);
    if (!event) throw new NimbusError("NotFound", `no invocation record for request id ${id}`);
    if (!(await d.redrive(id))) {
      throw new NimbusError(
        "Conflict",
        `invocation ${id} is ${event.status}: only a failed invocation can be redriven`,
      );
    }
    return c.json(invocationRecord((await d.records.get(id))!));
  });

  // Provisioned instances are billed for the time they are kept, busy or not.
  app.get("/nimbus/v1/provisioned-uptime", async (c) => {
    const fn = c.req.query("function");
    if (!fn)
      throw new NimbusError(
        "InvalidParameter",
        "function is required: /nimbus/v1/provisioned-uptime?function=NAME",
      );
    const now = (d.now ?? Date.now)();
    const from = optionalTime(c.req.query("from"), "from") ?? 0;
    const to = Math.min(now, optionalTime(c.req.query("to"), "to") ?? now);
    const spans = (await d.provisionedUptime(fn, from, to)).map((s) => {
      const seconds = Math.max(0, Math.min(to, s.stoppedAt ?? now) - Math.max(from, s.startedAt)) / 1000;
      return {
        version: s.version,
        instanceId: s.instanceId,
        memoryMb: s.memoryMb,
        startedAt: new Date(s.startedAt).toISOString(),
        stoppedAt: s.stoppedAt === undefined ? null : new Date(s.stoppedAt).toISOString(),
        seconds,
        gbSeconds: (seconds * s.memoryMb) / 1024,
      };
    });
    return c.json({
      function: fn,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      instanceSeconds: spans.reduce((t, s) => t + s.seconds, 0),
      gbSeconds: spans.reduce((t, s) => t + s.gbSeconds, 0),
      spans,
    });
  });

  app.get("/nimbus/v1/invocations/:id", async (c) => {
    const id = c.req.param("id");
    // The record first, then its runs: an event settled when its record is read has had its
    // REPORT line (and usage record) written before, so the runs read after it include its
    // last one. Read at once, a run finishing between the two reads showed "succeeded" with
    // no trace.
    const event = await d.records.get(id);
    const runs = await d.runs(id);
    const trace = runs.length === 0 ? null : traceOf(runs);
    if (event) return c.json({ ...invocationRecord(event), trace });
    // A synchronous invocation: what its usage records tell.
    const last = runs.at(-1);
    if (!last) throw new NimbusError("NotFound", `no invocation record for request id ${id}`);
    return c.json({
      requestId: id,
      function: last.functionName,
      version: last.version,
      type: last.type,
      status: last.outcome === "success" ? "succeeded" : "failed",
      attempts: runs.length,
      startedAt: new Date(last.startedAt).toISOString(),
      error: last.outcome === "success" ? null : { errorType: last.outcome },
      initPhases: last.initPhases ?? null,
      trace,
    });
  });

  app.get("/nimbus/v1/logs", async (c) => {
    const fn = c.req.query("function");
    if (!fn)
      throw new NimbusError(
        "InvalidParameter",
        "the query parameter function is required, e.g. ?function=hello",
      );
    const limit = intParam(c.req.query("limit"), 1000, "limit", 1, MAX_LOG_LIMIT);
    const query = {
      functionName: fn,
      requestId: c.req.query("requestId") || undefined,
      version: c.req.query("version") || undefined,
      contains: c.req.query("q") || undefined,
      from: optionalTime(c.req.query("from"), "from"),
      to: optionalTime(c.req.query("to"), "to"),
      afterSeq: intParam(c.req.query("after"), 0, "after", 0, Number.MAX_SAFE_INTEGER),
      limit,
    };
    if (c.req.query("follow") !== "1" && c.req.query("follow") !== "true") {
      const entries = await d.logs.query(query);
      return c.json({ entries: entries.map(wire) });
    }
    return streamSSE(c, async (stream) => {
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      const end = () => {
        closed = true;
        wake?.();
      };
      const stop = d.logs.follow(
        fn,
        (e) => {
          if (query.requestId && e.requestId !== query.requestId) return;
          if (query.version && e.version !== query.version) return;
          if (query.contains && !e.message.includes(query.contains)) return;
          if (query.to !== undefined && e.timestamp >= query.to) return;
          queue.push(JSON.stringify(wire({ ...e, seq: 0 })));
          wake?.();
        },
        end,
      );
      stream.onAbort(end);
      // A quiet function writes nothing for minutes: a comment every 15 s keeps clients (the
      // CLI's drops a silent response after 5 minutes) and proxies from closing the stream.
      const keepAlive = setInterval(() => void stream.write(": keep-alive\n\n"), 15_000);
      keepAlive.unref();
      try {
        for (const e of await d.logs.query(query))
          await stream.writeSSE({ data: JSON.stringify(wire(e)), event: "log" });
        while (!closed) {
          while (queue.length > 0) await stream.writeSSE({ data: queue.shift()!, event: "log" });
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      } finally {
        clearInterval(keepAlive);
        stop();
      }
    });
  });

  return app;
}

function wire(e: {
  seq: number;
  timestamp: number;
  requestId: string | undefined;
  version: string;
  message: string;
}) {
  return {
    seq: e.seq,
    time: new Date(e.timestamp).toISOString(),
    requestId: e.requestId ?? null,
    version: e.version,
    message: e.message,
  };
}

function intParam(raw: string | undefined, dflt: number, name: string, min: number, max: number): number {
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new NimbusError("InvalidParameter", `${name} must be an integer from ${min} to ${max}, got ${raw}`);
  }
  return n;
}

export function optionalTime(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n))
    throw new NimbusError(
      "InvalidParameter",
      `${name} must be an ISO 8601 time or epoch milliseconds, got ${raw}`,
    );
  return n;
}

/** An invocation record as the API shows it: what ran, how often, and how it ended. */
function invocationRecord(e: QueuedEvent) {
  const shown = (t: string | undefined) => (t === undefined ? null : jsonOrText(t));
  return {
    requestId: e.id,
    function: e.functionName,
    qualifier: e.qualifier ?? null,
    status: e.status,
    attempts: e.attempts,
    acceptedAt: new Date(e.acceptedAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
    nextAttemptAt: e.status === "retrying" ? new Date(e.notBefore).toISOString() : null,
    payload: shown(e.payload.toString("utf8")),
    result: shown(e.result?.toString("utf8")),
    error: shown(e.lastError),
    initPhases: e.initPhases ?? null,
  };
}

/** Each run (attempt) of an invocation with its spans, times in ISO form. */
function traceOf(runs: readonly UsageRecord[]) {
  return {
    traceId: runs.at(-1)!.traceId,
    runs: runs.map((r) => ({
      startedAt: new Date(r.startedAt).toISOString(),
      version: r.version,
      cold: r.cold,
      durationMs: r.durationMs,
      billedMs: r.billedMs,
      memoryMb: r.memoryMb,
      maxMemoryUsedMb: r.maxMemoryMb ?? null,
      outcome: r.outcome,
      spans: spansOf(r).map((sp) => ({
        name: sp.name,
        parent: sp.parent ?? null,
        start: new Date(Math.floor(sp.startMs)).toISOString(),
        startMs: sp.startMs,
        durationMs: sp.durationMs,
        ...(sp.attributes ? { attributes: sp.attributes } : {}),
      })),
    })),
  };
}
