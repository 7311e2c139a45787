/**
 * `nimbus queues ls|create|rm|send|receive|purge|attributes`: queues through SQS's JSON
 * protocol (signed for `sqs`). A queue is named by its name (its URL is asked with
 * GetQueueUrl) or by its URL.
 */
import { Command } from "commander";
import { awsJson, SQS } from "../aws-json.js";
import type { NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type Flags, integer, keyValue, withConnection, withJson } from "../options.js";
import { table } from "../output.js";

/** A message as ReceiveMessage answers it (the members shown). */
export interface Message {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
}

interface BatchResult {
  Successful?: Array<{ Id: string }>;
  Failed?: Array<{ Id: string; Code: string; Message?: string }>;
}

const call = <T>(client: NimbusClient, action: string, input: Record<string, unknown>) =>
  awsJson<T>(client, SQS, action, input);

/** The queue's URL: given as it is, or asked by its name. */
export async function queueUrl(client: NimbusClient, nameOrUrl: string): Promise<string> {
  if (/^https?:\/\//.test(nameOrUrl)) return nameOrUrl;
  return (await call<{ QueueUrl: string }>(client, "GetQueueUrl", { QueueName: nameOrUrl })).QueueUrl;
}

/** A queue's name, the last segment of its URL. */
export function queueNameOf(url: string): string {
  return decodeURIComponent(url.replace(/\/+$/, "").split("/").pop() ?? url);
}

export function queuesCommand(ctx: CliContext): Command {
  const cmd = new Command("queues")
    .alias("queue")
    .summary("create, list, feed and read queues (SQS)")
    .description(
      "Queues with SQS's contract: send messages, receive them, and let event source mappings, " +
        "rules and schedules feed or drain them. See docs/events.md.",
    );

  withConnection(
    withJson(
      cmd
        .command("ls")
        .alias("list")
        .summary("list queues")
        .option("--prefix <text>", "only queues whose name starts with this"),
    ),
  )
    .description(
      "List every queue with its approximate counts: messages ready, in flight (received, not yet " +
        'deleted) and delayed. --json prints {"QueueUrls": [...]}, ListQueues\' answer (every page).',
    )
    .action(
      ctx.action(async (o: Flags<{ prefix?: string }>) => {
        const client = ctx.client(o);
        const urls: string[] = [];
        let token: string | undefined;
        do {
          const page = await call<{ QueueUrls?: string[]; NextToken?: string }>(client, "ListQueues", {
            MaxResults: 1000,
            ...(o.prefix ? { QueueNamePrefix: o.prefix } : {}),
            ...(token ? { NextToken: token } : {}),
          });
          urls.push(...(page.QueueUrls ?? []));
          token = page.NextToken;
        } while (token);
        if (o.json) {
          ctx.json({ QueueUrls: urls });
          return 0;
        }
        if (urls.length === 0) {
          ctx.stdout.write("no queues\n");
          return 0;
        }
        const rows = await Promise.all(
          urls.map(async (url) => {
            const a = await attributes(client, url, [
              "ApproximateNumberOfMessages",
              "ApproximateNumberOfMessagesNotVisible",
              "ApproximateNumberOfMessagesDelayed",
            ]);
            return [
              queueNameOf(url),
              a.ApproximateNumberOfMessages ?? "-",
              a.ApproximateNumberOfMessagesNotVisible ?? "-",
              a.ApproximateNumberOfMessagesDelayed ?? "-",
            ];
          }),
        );
        ctx.stdout.write(table(["NAME", "MESSAGES", "IN-FLIGHT", "DELAYED"], rows, [1, 2, 3]));
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("create")
        .summary("create a queue")
        .argument("<name>", "the queue's name (a FIFO queue's ends in .fifo)")
        .option("--fifo", "a FIFO queue: in order per message group, each message once")
        .option(
          "--attribute <key=value>",
          "a queue attribute (VisibilityTimeout=60, DelaySeconds=5, RedrivePolicy=JSON…); repeatable",
          keyValue,
        ),
    ),
  )
    .description("Create a queue and print its URL. Creating it again with the same attributes is no error.")
    .addHelpText(
      "after",
      "\nExamples:\n  nimbus queues create orders --attribute VisibilityTimeout=60\n" +
        "  nimbus queues create payments.fifo --fifo --attribute ContentBasedDeduplication=true\n",
    )
    .action(
      ctx.action(async (name: string, o: Flags<{ fifo?: boolean; attribute?: Record<string, string> }>) => {
        const attrs = { ...o.attribute, ...(o.fifo ? { FifoQueue: "true" } : {}) };
        const out = await call<{ QueueUrl: string }>(ctx.client(o), "CreateQueue", {
          QueueName: name,
          ...(Object.keys(attrs).length > 0 ? { Attributes: attrs } : {}),
        });
        if (o.json) ctx.json(out);
        else ctx.stdout.write(`${out.QueueUrl}\n`);
        return 0;
      }),
    );

  withConnection(
    cmd.command("rm").alias("delete").summary("delete a queue and its messages").argument("<queue>"),
  ).action(
    ctx.action(async (queue: string, o: Flags) => {
      const client = ctx.client(o);
      await call(client, "DeleteQueue", { QueueUrl: await queueUrl(client, queue) });
      ctx.stdout.write(`deleted the queue ${queueNameOf(queue)}\n`);
      return 0;
    }),
  );

  withConnection(
    withJson(
      cmd
        .command("send")
        .summary("send a message to a queue")
        .argument("<queue>")
        .argument("<body>", "the message body")
        .option("--group <id>", "the message group (FIFO queues: required)")
        .option("--dedup <id>", "the deduplication id (FIFO queues without content-based deduplication)")
        .option("--delay <seconds>", "hidden for this long first (standard queues)", integer(0, 900))
        .option("--attribute <key=value>", "a message attribute, of type String; repeatable", keyValue),
    ),
  )
    .description("Send one message and print its id (and its sequence number on a FIFO queue).")
    .action(
      ctx.action(
        async (
          queue: string,
          body: string,
          o: Flags<{ group?: string; dedup?: string; delay?: number; attribute?: Record<string, string> }>,
        ) => {
          const client = ctx.client(o);
          const out = await call<{ MessageId: string; SequenceNumber?: string }>(client, "SendMessage", {
            QueueUrl: await queueUrl(client, queue),
            MessageBody: body,
            ...(o.group ? { MessageGroupId: o.group } : {}),
            ...(o.dedup ? { MessageDeduplicationId: o.dedup } : {}),
            ...(o.delay !== undefined ? { DelaySeconds: o.delay } : {}),
            ...(o.attribute ? { MessageAttributes: stringAttributes(o.attribute) } : {}),
          });
          if (o.json) ctx.json(out);
          else
            ctx.stdout.write(
              `${out.MessageId}${out.SequenceNumber ? ` (sequence ${out.SequenceNumber})` : ""}\n`,
            );
          return 0;
        },
      ),
    );

  withConnection(
    withJson(
      cmd
        .command("receive")
        .summary("receive messages from a queue, and delete them")
        .argument("<queue>")
        .option("--max <n>", "at most this many messages (default 1)", integer(1, 10))
        .option(
          "--wait <seconds>",
          "wait this long for a first message (default: the queue's own)",
          integer(0, 20),
        )
        .option("--keep", "leave them in the queue, visible again at once, instead of deleting them"),
    ),
  )
    .description(
      "Receive messages and print each: a line with its id, group and attributes, then its body. " +
        "They are then deleted, unless --keep (each receive still counts towards a redrive policy). " +
        'Prints "no messages" on stderr when there were none. --json prints ReceiveMessage\'s answer.',
    )
    .action(
      ctx.action(async (queue: string, o: Flags<{ max?: number; wait?: number; keep?: boolean }>) => {
        const client = ctx.client(o);
        const url = await queueUrl(client, queue);
        const { Messages = [] } = await call<{ Messages?: Message[] }>(client, "ReceiveMessage", {
          QueueUrl: url,
          MaxNumberOfMessages: o.max ?? 1,
          ...(o.wait !== undefined ? { WaitTimeSeconds: o.wait } : {}),
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        });
        if (o.json) ctx.json({ Messages });
        else if (Messages.length === 0) ctx.stderr.write("no messages\n");
        else for (const m of Messages) ctx.stdout.write(describeMessage(m));
        if (Messages.length === 0) return 0;
        const entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
        const result = o.keep
          ? await call<BatchResult>(client, "ChangeMessageVisibilityBatch", {
              QueueUrl: url,
              Entries: entries.map((e) => ({ ...e, VisibilityTimeout: 0 })),
            })
          : await call<BatchResult>(client, "DeleteMessageBatch", { QueueUrl: url, Entries: entries });
        for (const f of result.Failed ?? [])
          ctx.stderr.write(
            `error: could not ${o.keep ? "release" : "delete"} ${Messages[Number(f.Id)]?.MessageId}: ${f.Code}: ${f.Message ?? ""}\n`,
          );
        return (result.Failed ?? []).length > 0 ? 1 : 0;
      }),
    );

  withConnection(cmd.command("purge").summary("delete every message of a queue").argument("<queue>")).action(
    ctx.action(async (queue: string, o: Flags) => {
      const client = ctx.client(o);
      await call(client, "PurgeQueue", { QueueUrl: await queueUrl(client, queue) });
      ctx.stdout.write(`purged the queue ${queueNameOf(queue)}\n`);
      return 0;
    }),
  );

  withConnection(
    withJson(
      cmd
        .command("attributes")
        .alias("attrs")
        .summary("show a queue's attributes and approximate counts")
        .argument("<queue>"),
    ),
  )
    .description(
      "Show every attribute of a queue: its ARN, its settings, and its approximate counts of messages " +
        'ready, in flight and delayed. --json prints {"Attributes": {...}}, GetQueueAttributes\' answer.',
    )
    .action(
      ctx.action(async (queue: string, o: Flags) => {
        const client = ctx.client(o);
        const all = await attributes(client, await queueUrl(client, queue), ["All"]);
        if (o.json) ctx.json({ Attributes: all });
        else ctx.stdout.write(describeAttributes(all));
        return 0;
      }),
    );
  return cmd;
}

async function attributes(
  client: NimbusClient,
  url: string,
  names: string[],
): Promise<Record<string, string>> {
  const out = await call<{ Attributes?: Record<string, string> }>(client, "GetQueueAttributes", {
    QueueUrl: url,
    AttributeNames: names,
  });
  return out.Attributes ?? {};
}

function stringAttributes(attrs: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(attrs).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
  );
}

/** A received message: a header line (id, group, receive count, attributes), then its body. */
export function describeMessage(m: Message): string {
  const head = [m.MessageId];
  const group = m.Attributes?.MessageGroupId;
  if (group) head.push(`group=${group}`);
  const count = m.Attributes?.ApproximateReceiveCount;
  if (count && count !== "1") head.push(`received=${count}`);
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {}))
    head.push(`${k}=${v.StringValue ?? (v.BinaryValue === undefined ? "" : `(binary ${v.BinaryValue})`)}`);
  return `${head.join("  ")}\n${m.Body}${m.Body.endsWith("\n") ? "" : "\n"}`;
}

/** Attributes one a line, sorted; timestamps also as ISO times. */
export function describeAttributes(a: Record<string, string>): string {
  const rows = Object.keys(a)
    .sort()
    .map((k) => {
      const v = a[k]!;
      const time =
        k.endsWith("Timestamp") && /^\d+$/.test(v) ? ` (${new Date(Number(v) * 1000).toISOString()})` : "";
      return [k, `${v}${time}`];
    });
  return table(["ATTRIBUTE", "VALUE"], rows);
}
