/**
 * `nimbus events put|tail|webhook`: an event put on a bus through EventBridge's JSON protocol (signed for
 * `events`), and what passes on a bus followed as it passes (`/nimbus/v1/events/tail`, server-sent
 * events as `logs --follow` reads them).
 */
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { awsJson, EVENTS } from "../aws-json.js";
import type { CliContext } from "../context.js";
import { collect, type Flags, withConnection, withJson } from "../options.js";
import { sseEvents } from "../sse.js";
import { webhookCommands } from "./events-webhooks.js";

/** An event as a bus delivers it. */
export interface Envelope {
  id: string;
  "detail-type": string;
  source: string;
  time: string;
  resources: string[];
  detail: unknown;
  [member: string]: unknown;
}

interface PutOptions extends Flags {
  source: string;
  detailType: string;
  detail: string;
  bus?: string;
  resource?: string[];
}

interface PutEventsOutput {
  FailedEntryCount: number;
  Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
}

/** A value given as it is, or read from the file it names after `@`. */
const textOrFile = async (v: string) => (v.startsWith("@") ? readFile(v.slice(1), "utf8") : v);

export function eventsCommand(ctx: CliContext): Command {
  const cmd = new Command("events")
    .alias("event")
    .summary("put events on a bus and follow what passes (EventBridge)")
    .description(
      "The event bus with EventBridge's contract: rules match events by pattern and send them to " +
        "functions, queues and other buses. See docs/events.md.",
    );
  const bus = (c: Command) => c.option("--bus <name|arn>", "the event bus (default: default)");

  withConnection(
    withJson(
      bus(
        cmd
          .command("put")
          .summary("put an event on a bus")
          .requiredOption("--source <source>", "where it comes from, e.g. app.orders")
          .requiredOption("--detail-type <type>", "what it is, e.g. OrderPlaced")
          .requiredOption(
            "--detail <json|@file>",
            "its detail: a JSON object, or @FILE to read it from a file",
          )
          .option("--resource <arn>", "an ARN it concerns; repeatable", collect),
      ),
    ),
  )
    .description(
      "Put one event (PutEvents) and print its id once every target of every matching rule has it. " +
        "An entry the bus refuses prints its error code and message and exits 1. --json prints PutEvents' answer.",
    )
    .addHelpText(
      "after",
      `\nExample:\n  nimbus events put --source app.orders --detail-type OrderPlaced --detail '{"id":42}'\n`,
    )
    .action(
      ctx.action(async (o: PutOptions) => {
        const entry = {
          Source: o.source,
          DetailType: o.detailType,
          Detail: await textOrFile(o.detail),
          ...(o.bus ? { EventBusName: o.bus } : {}),
          ...(o.resource ? { Resources: o.resource } : {}),
        };
        const out = await awsJson<PutEventsOutput>(ctx.client(o), EVENTS, "PutEvents", { Entries: [entry] });
        const e = out.Entries[0];
        if (o.json) ctx.json(out);
        else if (e?.EventId) ctx.stdout.write(`${e.EventId}\n`);
        if (e?.EventId) return 0;
        ctx.stderr.write(
          `error: ${e?.ErrorCode ?? "Failed"}: ${e?.ErrorMessage ?? "the event was not put"}\n`,
        );
        return 1;
      }),
    );

  withConnection(
    withJson(
      bus(
        cmd
          .command("tail")
          .summary("follow the events a bus accepts, as they pass")
          .option("--pattern <json|@file>", "only the events this rule pattern matches"),
      ),
    ),
  )
    .description(
      "Print each event the bus accepts from now on, once its targets have it, until Ctrl-C: a line " +
        "with its time, source and detail type (and resources), then its detail. --json prints each " +
        "event whole, one JSON object a line. When this reads slower than the bus accepts, events are " +
        "dropped, and a line on stderr says how many.",
    )
    .addHelpText(
      "after",
      `\nExamples:\n  nimbus events tail\n  nimbus events tail --bus orders --pattern '{"source":["app.orders"],"detail":{"total":[{"numeric":[">",100]}]}}'\n`,
    )
    .action(
      ctx.action(async (o: Flags<{ bus?: string; pattern?: string }>) => {
        const query: Record<string, string> = {};
        if (o.bus) query.bus = o.bus;
        if (o.pattern) query.pattern = await textOrFile(o.pattern);
        const res = await ctx.client(o).call("GET", "/nimbus/v1/events/tail", { query });
        ctx.stderr.write(`following the bus ${o.bus ?? "default"} (Ctrl-C to stop)\n`);
        for await (const e of sseEvents(res.body as AsyncIterable<Uint8Array>)) {
          if (e.event === "event")
            ctx.stdout.write(o.json ? `${e.data}\n` : describeEvent(JSON.parse(e.data)));
          else if (e.event === "dropped") {
            const { dropped } = JSON.parse(e.data) as { dropped: number };
            ctx.stderr.write(`${dropped} event(s) dropped: this tail could not keep up with the bus\n`);
          }
        }
        ctx.stderr.write("the platform ended the tail (it is stopping)\n");
        return 1;
      }),
    );
  webhookCommands(cmd, ctx, textOrFile);
  return cmd;
}

/** An event for people: its time, source, detail type and resources, then its detail indented. */
export function describeEvent(e: Envelope): string {
  const head = [e.time, e.source, e["detail-type"], ...(e.resources ?? [])].join("  ");
  const detail = JSON.stringify(e.detail, null, 2).replace(/^/gm, "  ");
  return `${head}\n${detail}\n`;
}
