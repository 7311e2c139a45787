/**
 * Issue 14's schedule figure: a tick's time → the start of the function it targets, on an idle
 * platform (target p50 ≤ 50 ms). One-time `at()` schedules a second apart, each with an Input
 * carrying its tag; the handler reports the moment it started (`lib/start-reporter.ts`). Beside
 * it, in the same run, a synchronous Invoke's request → start on the same warm function: what
 * the ticker, the async queue and the instance add over the shortest path in.
 */
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { type BenchContext, type FigureResult, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { invokePath, PAYLOAD, REGION } from "./lib/functions.js";
import { keepAliveAgent, send } from "./lib/http-client.js";
import { StartReporter, startReportingHandler } from "./lib/start-reporter.js";
import { percentile, spread } from "./lib/stats.js";

const TARGET_P50_MS = 50;
const now = () => performance.timeOrigin + performance.now();
/** How far ahead the first tick of a run is set: time to create the run's schedules. */
const LEAD_MS = 2500;

export async function scheduleStart(ctx: BenchContext, o: { ticks: number }): Promise<FigureResult> {
  const FN = "bench-schedule-start";
  const reporter = await StartReporter.start();
  const scheduler = new SchedulerClient({
    endpoint: ctx.platform.url,
    region: REGION,
    credentials: ctx.platform.credentials,
  });
  await ctx.control.deploy(FN, { code: startReportingHandler(reporter.port), reserved: 1 });
  const arn = await ctx.control.arn(FN);
  const agent = keepAliveAgent(1);
  const tickToStart: number[] = [];
  const sync: number[] = [];
  try {
    const path = invokePath(FN);
    const headers = await ctx.signer.post(ctx.base, path, PAYLOAD);
    for (let i = 0; i < 20; i++) await send(agent, ctx.base, path, headers, PAYLOAD);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`schedule start: run ${run + 1}/${ctx.runs}`);
      for (let i = 0; i < o.ticks; i++) {
        const sent = now();
        const reply = await send(agent, ctx.base, path, headers, PAYLOAD);
        sync.push(Number(reply.body.toString()) - sent);
      }
      const first = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
      const ticks = Array.from({ length: o.ticks }, (_, i) => ({
        tag: `tick-${run}-${i}`,
        at: first + i * 1000,
      }));
      for (const t of ticks)
        await scheduler.send(
          new CreateScheduleCommand({
            Name: t.tag,
            ScheduleExpression: `at(${new Date(t.at).toISOString().slice(0, 19)})`,
            FlexibleTimeWindow: { Mode: "OFF" },
            ActionAfterCompletion: "DELETE",
            Target: {
              Arn: arn,
              RoleArn: "arn:aws:iam::000000000000:role/bench",
              Input: JSON.stringify({ tag: t.tag }),
            },
          }),
        );
      if (Date.now() >= first)
        throw new Error("the run's schedules took longer to create than the lead before the first tick");
      for (const t of ticks)
        tickToStart.push((await reporter.startOf(t.tag, t.at - Date.now() + 30_000)) - t.at);
    }
  } finally {
    for (const s of (
      await scheduler.send(new ListSchedulesCommand({ NamePrefix: "tick-" })).catch(() => ({ Schedules: [] }))
    ).Schedules ?? [])
      await scheduler.send(new DeleteScheduleCommand({ Name: s.Name })).catch(() => {});
    scheduler.destroy();
    agent.destroy();
    reporter.close();
    await ctx.control.remove(FN);
  }
  const a = spread(tickToStart);
  const b = spread(sync);
  const pass = a.p50 <= TARGET_P50_MS;
  return {
    name: "schedule start",
    line:
      `tick → function start p50 ${fmtMs(a.p50)} ms p99 ${fmtMs(a.p99)} ms | ` +
      `sync Invoke request → start p50 ${fmtMs(b.p50)} ms p99 ${fmtMs(b.p99)} ms | ${fmtRatio(a.p50 / b.p50)} ` +
      `(target p50 ≤${TARGET_P50_MS} ms) ${verdict(pass)}`,
    notes: [
      `${tickToStart.length} one-time at() ticks a second apart, each delivered as an asynchronous invocation; ` +
        `min ${fmtMs(Math.min(...tickToStart))} ms, p90 ${fmtMs(percentile(tickToStart, 90))} ms`,
    ],
    pass,
    data: { tickToStartMs: tickToStart, syncMs: sync },
    headline: { p50: a.p50, p99: a.p99, syncP50: b.p50, syncP99: b.p99 },
  };
}
