/**
 * Issue 14's figures on the platform's event sources (the rule index is `rules.ts`, the kill -9
 * figure `sqs-kill.ts`):
 * - sqs send: SendMessage answered (committed) per second under 32 clients, beside the async
 *   Invoke accept rate of the same clients in the same run;
 * - queue start: SendMessage's answer → the handler's start through an event source mapping
 *   (BatchSize 1) on an idle platform, beside a synchronous Invoke's request → start;
 * - bus start: PutEvents' answer → the start of the function a rule on the default bus targets
 *   (run asynchronously), with the same baseline, and an Event invoke's 202 → start beside it.
 * The schedule tick → function start figure is `schedules.ts`.
 */
import { randomBytes } from "node:crypto";
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AwsJson } from "./lib/aws-json.js";
import { type BenchContext, type FigureResult, fmtInt, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { invokePath, PAYLOAD, REGION } from "./lib/functions.js";
import { expectOk, keepAliveAgent, send } from "./lib/http-client.js";
import { cpuMsOf, sleep } from "./lib/proc.js";
import { StartReporter, startReportingHandler } from "./lib/start-reporter.js";
import { overRuns, percentile, spread } from "./lib/stats.js";

const SEND_TARGET = 10_000;
const START_TARGET_P50_MS = 5;
/** Untimed load before the first run of the send figure (V8 warms the platform's SQS path). */
const SEND_WARMUP_MS = 1500;

const now = () => performance.timeOrigin + performance.now();

interface LoadResult {
  readonly perSecond: number;
  readonly errors: number;
  /** CPU time per answered request, in µs: the platform process, the store's server, the load generator. */
  readonly cpuUs: { readonly platform: number; readonly store: number; readonly client: number };
}

/** Closed-loop load for `durationMs`: `clients` calls of `one` in flight, each true when answered as hoped. */
async function closedLoop(
  ctx: BenchContext,
  clients: number,
  durationMs: number,
  one: () => Promise<boolean>,
): Promise<LoadResult> {
  let ok = 0;
  let errors = 0;
  const before = {
    platform: cpuMsOf(ctx.platform.pid),
    store: ctx.storeCpuMs?.() ?? 0,
    client: process.cpuUsage(),
  };
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        if (await one().catch(() => false)) ok++;
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(before.client);
  const per = (ms: number) => (ok === 0 ? Number.NaN : (ms * 1000) / ok);
  return {
    perSecond: ok / seconds,
    errors,
    cpuUs: {
      platform: per(cpuMsOf(ctx.platform.pid) - before.platform),
      store: per((ctx.storeCpuMs?.() ?? 0) - before.store),
      client: per((client.user + client.system) / 1000),
    },
  };
}

/**
 * SendMessage per second, each answered once committed, under `clients` concurrent clients, on
 * a standard queue nobody reads. Reported: the raw JSON 1.0 client (one signature replayed, as
 * the Invoke figures do), so that the platform is measured and not the client; beside it, in the
 * same run with the same clients, Event invokes of a function with no concurrency (accepted,
 * durable, not run: figure 6), and SendMessage through `@aws-sdk/client-sqs` (a signature and
 * the SDK's middleware per call, in the same process as the load).
 */
export async function sqsSend(
  ctx: BenchContext,
  o: { clients: number; durationMs: number },
): Promise<FigureResult> {
  const QUEUE = "bench-sqs-send";
  const FN = "bench-sqs-invoke";
  const sqs = new AwsJson(ctx.base, ctx.platform.credentials, "sqs");
  const agent = keepAliveAgent(o.clients);
  const sdk = new SQSClient({
    endpoint: ctx.platform.url,
    region: REGION,
    credentials: ctx.platform.credentials,
    maxAttempts: 1,
  });
  const { QueueUrl } = await sqs.call<{ QueueUrl: string }>(agent, "CreateQueue", { QueueName: QUEUE });
  await ctx.control.deploy(FN, { reserved: 0 });
  const raw: LoadResult[] = [];
  const invoke: LoadResult[] = [];
  const viaSdk: LoadResult[] = [];
  try {
    const sendCall = await sqs.sign("SendMessage", { QueueUrl, MessageBody: PAYLOAD.toString() });
    const eventHeaders = await ctx.signer.post(ctx.base, invokePath(FN), PAYLOAD, {
      "x-amz-invocation-type": "Event",
    });
    const sendRaw = async () => (await sqs.send(agent, sendCall)).status === 200;
    const sendEvent = async () =>
      (await send(agent, ctx.base, invokePath(FN), eventHeaders, PAYLOAD)).status === 202;
    const body = PAYLOAD.toString();
    const sendSdk = async () =>
      (await sdk.send(new SendMessageCommand({ QueueUrl, MessageBody: body }))).MessageId !== undefined;
    ctx.progress("sqs send: warming up");
    await closedLoop(ctx, o.clients, SEND_WARMUP_MS, sendRaw);
    await closedLoop(ctx, o.clients, SEND_WARMUP_MS / 3, sendEvent);
    await closedLoop(ctx, o.clients, SEND_WARMUP_MS / 3, sendSdk);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`sqs send: run ${run + 1}/${ctx.runs}`);
      // Which goes first alternates, so that the machine's drift falls on both.
      if (run % 2 === 0) raw.push(await closedLoop(ctx, o.clients, o.durationMs, sendRaw));
      invoke.push(await closedLoop(ctx, o.clients, o.durationMs, sendEvent));
      if (run % 2 === 1) raw.push(await closedLoop(ctx, o.clients, o.durationMs, sendRaw));
      viaSdk.push(await closedLoop(ctx, o.clients, o.durationMs, sendSdk));
    }
  } finally {
    sdk.destroy();
    await sqs.call(agent, "DeleteQueue", { QueueUrl }).catch(() => {});
    agent.destroy();
    // The waiting events fail at their next claim once the function is gone: drained before the next figure.
    await ctx.control.remove(FN);
    await ctx.control.drained();
  }
  const r = overRuns(raw.map((x) => x.perSecond));
  const i = overRuns(invoke.map((x) => x.perSecond));
  const s = overRuns(viaSdk.map((x) => x.perSecond));
  const errors = raw.reduce((n, x) => n + x.errors, 0);
  const errorsElsewhere = [...invoke, ...viaSdk].reduce((n, x) => n + x.errors, 0);
  const cpu = (runs: LoadResult[], k: keyof LoadResult["cpuUs"]) =>
    fmtInt(overRuns(runs.map((x) => x.cpuUs[k])).median);
  const pass = r.median >= SEND_TARGET && errors === 0;
  return {
    name: "sqs send",
    line:
      `${fmtInt(r.median)} SendMessage/s (worst run ${fmtInt(r.min)}), ${o.clients} clients | ` +
      `async Invoke accepts ${fmtInt(i.median)}/s (worst ${fmtInt(i.min)}) | ${fmtRatio(r.median / i.median)} ` +
      `(target ≥${fmtInt(SEND_TARGET)}/s) ${verdict(pass)}`,
    notes: [
      `raw AWS JSON 1.0, one signature replayed; through @aws-sdk/client-sqs (signing each call, in the load generator's process): ` +
        `${fmtInt(s.median)}/s (worst ${fmtInt(s.min)}), ${fmtRatio(s.median / r.median)} of raw`,
      `CPU per call: platform process ${cpu(raw, "platform")} µs per SendMessage, ${cpu(invoke, "platform")} µs per Event invoke` +
        (ctx.storeCpuMs ? `; PostgreSQL server ${cpu(raw, "store")} µs and ${cpu(invoke, "store")} µs` : "") +
        `; load generator ${cpu(raw, "client")} µs raw, ${cpu(viaSdk, "client")} µs through the SDK`,
      ...(ctx.store === "sqlite"
        ? [
            "durable: SendMessage answers once its transaction has committed to the store's WAL (synchronous=NORMAL: kept across kill -9, " +
              "not power loss); Event invokes' queue fsyncs each batch of commits (synchronous=FULL)",
          ]
        : []),
      ...(errors + errorsElsewhere > 0
        ? [`${errors} SendMessage and ${errorsElsewhere} other calls were not answered as hoped`]
        : []),
    ],
    pass,
    data: {
      sendPerSecond: raw.map((x) => x.perSecond),
      invokePerSecond: invoke.map((x) => x.perSecond),
      sdkPerSecond: viaSdk.map((x) => x.perSecond),
      cpuUs: { send: raw.map((x) => x.cpuUs), invoke: invoke.map((x) => x.cpuUs) },
      errors,
      clients: o.clients,
    },
    headline: {
      perSecond: r.median,
      worstPerSecond: r.min,
      invokePerSecond: i.median,
      sdkPerSecond: s.median,
      errors,
    },
  };
}

export interface StartOptions {
  /** Samples of each kind per run. */
  readonly events: number;
  /** Idle time before each call, so that every one finds the platform idle. */
  readonly gapMs: number;
}

/** One way of starting the function: signs its call (off the clock), then sends it. */
type Trigger = (tag: string) => Promise<() => Promise<void>>;

interface StartSamples {
  /** The call answered → the handler started. */
  readonly answerToStart: number[];
  /** The call sent → the handler started. */
  readonly sentToStart: number[];
}

/**
 * The start figures' loop: per run and sample, a synchronous Invoke of the warm function (request
 * sent → start, from its reply), then each trigger (answer → start, from the reporter), each
 * after `gapMs` idle.
 */
async function measureStarts(
  ctx: BenchContext,
  figure: string,
  fn: string,
  reporter: StartReporter,
  triggers: Record<string, Trigger>,
  o: StartOptions,
): Promise<{ sync: number[]; by: Record<string, StartSamples> }> {
  const agent = keepAliveAgent(1);
  const sync: number[] = [];
  const by: Record<string, StartSamples> = {};
  for (const name of Object.keys(triggers)) by[name] = { answerToStart: [], sentToStart: [] };
  const path = invokePath(fn);
  const syncHeaders = await ctx.signer.post(ctx.base, path, PAYLOAD);
  try {
    const round = async (keep: boolean, id: string) => {
      await sleep(o.gapMs);
      const sent = now();
      const reply = await send(agent, ctx.base, path, syncHeaders, PAYLOAD);
      expectOk(reply, "synchronous invoke");
      if (keep) sync.push(Number(reply.body.toString()) - sent);
      for (const [name, trigger] of Object.entries(triggers)) {
        const tag = `${name}-${id}`;
        const fire = await trigger(tag);
        await sleep(o.gapMs);
        const t0 = now();
        await fire();
        const answered = now();
        const start = await reporter.startOf(tag);
        if (!keep) continue;
        by[name]!.answerToStart.push(start - answered);
        by[name]!.sentToStart.push(start - t0);
      }
    };
    // Untimed: the instance, the readers and every path warm.
    for (let i = 0; i < 10; i++) await round(false, `warm-${i}`);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`${figure}: run ${run + 1}/${ctx.runs}`);
      for (let i = 0; i < o.events; i++) await round(true, `${run}-${i}`);
    }
  } finally {
    agent.destroy();
  }
  return { sync, by };
}

function startFigure(
  name: string,
  what: string,
  samples: StartSamples,
  sync: number[],
  o: StartOptions,
  extra: string[],
): FigureResult {
  const a = spread(samples.answerToStart);
  const b = spread(sync);
  const pass = a.p50 <= START_TARGET_P50_MS;
  return {
    name,
    line:
      `${what} → function start p50 ${fmtMs(a.p50)} ms p99 ${fmtMs(a.p99)} ms | ` +
      `sync Invoke request → start p50 ${fmtMs(b.p50)} ms p99 ${fmtMs(b.p99)} ms | ${fmtRatio(a.p50 / b.p50)} ` +
      `(target p50 ≤${START_TARGET_P50_MS} ms) ${verdict(pass)}`,
    notes: [
      `${samples.answerToStart.length} events, one at a time, ${o.gapMs} ms idle before each call; ` +
        `request sent → start p50 ${fmtMs(percentile(samples.sentToStart, 50))} ms p99 ${fmtMs(percentile(samples.sentToStart, 99))} ms`,
      ...extra,
    ],
    pass,
    data: { answerToStartMs: samples.answerToStart, sentToStartMs: samples.sentToStart, syncMs: sync },
    headline: { p50: a.p50, p99: a.p99, syncP50: b.p50, syncP99: b.p99 },
  };
}

/** Queue → function start through an event source mapping with BatchSize 1, on an idle platform. */
export async function queueStart(ctx: BenchContext, o: StartOptions): Promise<FigureResult> {
  const FN = "bench-queue-start";
  const QUEUE = "bench-queue-start";
  const reporter = await StartReporter.start();
  const sqs = new AwsJson(ctx.base, ctx.platform.credentials, "sqs");
  const agent = keepAliveAgent(1);
  const lambda = new LambdaClient({
    endpoint: ctx.platform.url,
    region: REGION,
    credentials: ctx.platform.credentials,
  });
  await ctx.control.deploy(FN, { code: startReportingHandler(reporter.port), reserved: 1 });
  const { QueueUrl } = await sqs.call<{ QueueUrl: string }>(agent, "CreateQueue", { QueueName: QUEUE });
  let uuid: string | undefined;
  try {
    const { Attributes } = await sqs.call<{ Attributes: { QueueArn: string } }>(agent, "GetQueueAttributes", {
      QueueUrl,
      AttributeNames: ["QueueArn"],
    });
    uuid = (
      await lambda.send(
        new CreateEventSourceMappingCommand({
          EventSourceArn: Attributes.QueueArn,
          FunctionName: FN,
          BatchSize: 1,
        }),
      )
    ).UUID;
    const rtt: number[] = [];
    const { sync, by } = await measureStarts(
      ctx,
      "queue start",
      FN,
      reporter,
      {
        queue: async (tag) => {
          const call = await sqs.sign("SendMessage", { QueueUrl, MessageBody: tag });
          return async () => {
            const t0 = now();
            const reply = await sqs.send(agent, call);
            rtt.push(now() - t0);
            if (reply.status !== 200) throw new Error(`SendMessage: HTTP ${reply.status}`);
          };
        },
      },
      o,
    );
    return startFigure("queue start", "SendMessage answer", by.queue!, sync, o, [
      `SendMessage round trip p50 ${fmtMs(percentile(rtt, 50))} ms; the mapping's reader waits in a long poll, woken by the send`,
    ]);
  } finally {
    if (uuid) await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid })).catch(() => {});
    lambda.destroy();
    await sqs.call(agent, "DeleteQueue", { QueueUrl }).catch(() => {});
    agent.destroy();
    reporter.close();
    await ctx.control.remove(FN);
  }
}

/**
 * PutEvents → the start of the function a rule on the default bus targets. The bus invokes its
 * function targets asynchronously (through the async queue, as Lambda's Event invokes), so an
 * Event invoke's 202 → start is measured beside it: what the bus adds over that path.
 */
export async function busStart(ctx: BenchContext, o: StartOptions): Promise<FigureResult> {
  const FN = "bench-bus-start";
  const RULE = "bench-bus-start";
  const SOURCE = "bench.events";
  const reporter = await StartReporter.start();
  const events = new AwsJson(ctx.base, ctx.platform.credentials, "events");
  const agent = keepAliveAgent(1);
  await ctx.control.deploy(FN, { code: startReportingHandler(reporter.port), reserved: 1 });
  let hook: { connection: string; destination: string } | undefined;
  try {
    hook = await webhookTo(events, agent, reporter.port, RULE);
    await events.call(agent, "PutRule", {
      Name: RULE,
      EventPattern: JSON.stringify({ source: [SOURCE], "detail-type": ["bench start"] }),
    });
    await events.call(agent, "PutTargets", {
      Rule: RULE,
      Targets: [{ Id: "fn", Arn: await ctx.control.arn(FN) }],
    });
    const path = invokePath(FN);
    const { sync, by } = await measureStarts(
      ctx,
      "bus start",
      FN,
      reporter,
      {
        bus: async (tag) => {
          const call = await events.sign("PutEvents", {
            Entries: [{ Source: SOURCE, DetailType: "bench start", Detail: JSON.stringify({ tag }) }],
          });
          return async () => {
            const reply = await events.send(agent, call);
            const out = JSON.parse(reply.body.toString() || "{}") as { FailedEntryCount?: number };
            if (reply.status !== 200 || out.FailedEntryCount !== 0)
              throw new Error(`PutEvents: HTTP ${reply.status} ${reply.body.toString().slice(0, 300)}`);
          };
        },
        hook: async (tag) => {
          const call = await events.sign("PutEvents", {
            Entries: [{ Source: SOURCE, DetailType: "bench hook", Detail: JSON.stringify({ tag }) }],
          });
          return async () => {
            const reply = await events.send(agent, call);
            if (reply.status !== 200) throw new Error(`PutEvents: HTTP ${reply.status}`);
          };
        },
        event: async (tag) => {
          const payload = Buffer.from(JSON.stringify({ tag }));
          const headers = await ctx.signer.post(ctx.base, path, payload, {
            "x-amz-invocation-type": "Event",
          });
          return async () => {
            const reply = await send(agent, ctx.base, path, headers, payload);
            if (reply.status !== 202) throw new Error(`Event invoke: HTTP ${reply.status}`);
          };
        },
      },
      o,
    );
    const ev = spread(by.event!.answerToStart);
    // Sent, not answered: the request leaves as soon as the event is stored, before the answer does.
    const hk = spread(by.hook!.sentToStart);
    return startFigure("bus start", "PutEvents answer", by.bus!, sync, o, [
      `Event invoke 202 → start p50 ${fmtMs(ev.p50)} ms p99 ${fmtMs(ev.p99)} ms (the path a bus's function target takes); ` +
        `PutEvents ÷ Event invoke p50 ${fmtRatio(percentile(by.bus!.answerToStart, 50) / ev.p50)}`,
      `PutEvents sent → an API destination's request arrives (signed as Standard Webhooks) p50 ${fmtMs(hk.p50)} ms ` +
        `p99 ${fmtMs(hk.p99)} ms; ÷ PutEvents sent → function start p50 ${fmtRatio(hk.p50 / percentile(by.bus!.sentToStart, 50))}`,
    ]);
  } finally {
    if (hook) await removeWebhook(events, agent, RULE, hook).catch(() => {});
    await events.call(agent, "RemoveTargets", { Rule: RULE, Ids: ["fn"] }).catch(() => {});
    await events.call(agent, "DeleteRule", { Name: RULE }).catch(() => {});
    agent.destroy();
    reporter.close();
    await ctx.control.remove(FN);
  }
}

/**
 * A rule for `bench hook` events whose target is an API destination at the start reporter,
 * through a connection that signs as Standard Webhooks: the webhook path beside the function's.
 */
async function webhookTo(
  events: AwsJson,
  agent: ReturnType<typeof keepAliveAgent>,
  port: number,
  rule: string,
): Promise<{ connection: string; destination: string }> {
  const name = `${rule}-hook`;
  const { ConnectionArn } = await events.call<{ ConnectionArn: string }>(agent, "CreateConnection", {
    Name: name,
    AuthorizationType: "API_KEY",
    AuthParameters: {
      ApiKeyAuthParameters: {
        ApiKeyName: "webhook-signature",
        ApiKeyValue: `whsec_${randomBytes(32).toString("base64")}`,
      },
    },
  });
  const { ApiDestinationArn } = await events.call<{ ApiDestinationArn: string }>(
    agent,
    "CreateApiDestination",
    {
      Name: name,
      ConnectionArn,
      InvocationEndpoint: `http://127.0.0.1:${port}/`,
      HttpMethod: "POST",
    },
  );
  await events.call(agent, "PutRule", {
    Name: name,
    EventPattern: JSON.stringify({ "detail-type": ["bench hook"] }),
  });
  await events.call(agent, "PutTargets", { Rule: name, Targets: [{ Id: "hook", Arn: ApiDestinationArn }] });
  return { connection: name, destination: name };
}

async function removeWebhook(
  events: AwsJson,
  agent: ReturnType<typeof keepAliveAgent>,
  rule: string,
  hook: { connection: string; destination: string },
): Promise<void> {
  const name = `${rule}-hook`;
  await events.call(agent, "RemoveTargets", { Rule: name, Ids: ["hook"] });
  await events.call(agent, "DeleteRule", { Name: name });
  await events.call(agent, "DeleteApiDestination", { Name: hook.destination });
  await events.call(agent, "DeleteConnection", { Name: hook.connection });
}
