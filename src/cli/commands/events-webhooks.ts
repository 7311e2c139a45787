/**
 * `nimbus events webhook add|ls|rm`: an HTTP endpoint that receives a bus's matching events,
 * signed as Standard Webhooks, in one command. Under it are EventBridge's own parts, all named
 * after the webhook: a connection (an API key `webhook-signature` holding the `whsec_` secret), an
 * API destination (the URL), a rule on the bus (the pattern) and its target. `add` makes all four
 * or, if one fails, none (what it made is removed again); `rm` removes what there is of them.
 */
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { awsJson, EVENTS } from "../aws-json.js";
import type { NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type Flags, integer, oneOf, positiveInteger, withConnection, withJson } from "../options.js";
import { table } from "../output.js";

interface AddOptions {
  url: string;
  pattern: string;
  bus?: string;
  secret?: string;
  method: string;
  rate?: number;
  deadLetter?: string;
  maxRetries?: number;
}

const TARGET_ID = "webhook";

export function webhookCommands(
  cmd: Command,
  ctx: CliContext,
  textOrFile: (v: string) => Promise<string>,
): void {
  const hooks = cmd
    .command("webhook")
    .alias("webhooks")
    .summary("send a bus's matching events to an HTTP endpoint, signed as Standard Webhooks");

  withConnection(
    withJson(
      hooks
        .command("add <name>")
        .summary("send the events a pattern matches to a URL")
        .requiredOption("--url <url>", "the endpoint (http or https)")
        .requiredOption("--pattern <json|@file>", "the rule's event pattern")
        .option("--bus <name|arn>", "the event bus (default: default)")
        .option("--secret <whsec_…>", "the signing secret (default: a new one, printed once)")
        .option("--method <method>", "the HTTP method", oneOf("POST", "PUT", "PATCH"), "POST")
        .option("--rate <n>", "requests per second at most (default 300)", positiveInteger)
        .option("--dead-letter <queue-arn>", "a queue for the events the endpoint never took")
        .option("--max-retries <n>", "attempts after the first (default 185)", integer(0, 185)),
    ),
  )
    .description(
      "Make a connection, an API destination, a rule and its target, all named <name>: each event " +
        "the pattern matches is POSTed to the URL with webhook-id, webhook-timestamp and " +
        "webhook-signature headers (Standard Webhooks), retried on 5xx and 429. Without --secret a " +
        "secret is made and printed once: give it to the receiver. If any part fails, none is left.",
    )
    .addHelpText(
      "after",
      `\nExample:\n  nimbus events webhook add orders --url https://example.com/hooks --pattern '{"source":["app.orders"]}'\n`,
    )
    .action(
      ctx.action(async (name: string, o: Flags<AddOptions>) => {
        const client = ctx.client(o);
        const generated = o.secret === undefined;
        const secret = o.secret ?? `whsec_${randomBytes(32).toString("base64")}`;
        const pattern = await textOrFile(o.pattern);
        const bus = o.bus ? { EventBusName: o.bus } : {};
        const call = <T>(action: string, input: Record<string, unknown>) =>
          awsJson<T>(client, EVENTS, action, input);
        const taken = await call("DescribeRule", { Name: name, ...bus }).then(
          () => true,
          (err: Error) => {
            if (err.message.startsWith("ResourceNotFoundException")) return false;
            throw err;
          },
        );
        if (taken) {
          ctx.stderr.write(
            `error: a rule named ${name} exists on the bus ${o.bus ?? "default"}: choose another name, or remove it first\n`,
          );
          return 1;
        }
        const undo: Array<() => Promise<unknown>> = [];
        try {
          const { ConnectionArn } = await call<{ ConnectionArn: string }>("CreateConnection", {
            Name: name,
            AuthorizationType: "API_KEY",
            AuthParameters: {
              ApiKeyAuthParameters: { ApiKeyName: "webhook-signature", ApiKeyValue: secret },
            },
          });
          undo.push(() => call("DeleteConnection", { Name: name }));
          const { ApiDestinationArn } = await call<{ ApiDestinationArn: string }>("CreateApiDestination", {
            Name: name,
            ConnectionArn,
            InvocationEndpoint: o.url,
            HttpMethod: o.method,
            ...(o.rate !== undefined ? { InvocationRateLimitPerSecond: o.rate } : {}),
          });
          undo.push(() => call("DeleteApiDestination", { Name: name }));
          const { RuleArn } = await call<{ RuleArn: string }>("PutRule", {
            Name: name,
            EventPattern: pattern,
            ...bus,
          });
          undo.push(() => call("DeleteRule", { Name: name, ...bus }));
          const out = await call<{
            FailedEntryCount: number;
            FailedEntries: Array<{ ErrorMessage?: string }>;
          }>("PutTargets", {
            Rule: name,
            ...bus,
            Targets: [
              {
                Id: TARGET_ID,
                Arn: ApiDestinationArn,
                ...(o.deadLetter ? { DeadLetterConfig: { Arn: o.deadLetter } } : {}),
                ...(o.maxRetries !== undefined
                  ? { RetryPolicy: { MaximumRetryAttempts: o.maxRetries } }
                  : {}),
              },
            ],
          });
          if (out.FailedEntryCount > 0)
            throw new Error(out.FailedEntries[0]?.ErrorMessage ?? "the target was refused");
          if (o.json)
            ctx.json({ ConnectionArn, ApiDestinationArn, RuleArn, ...(generated ? { Secret: secret } : {}) });
          else {
            ctx.stdout.write(
              `webhook ${name}: ${o.method} ${o.url} for the events matching its rule on ${o.bus ?? "default"}\n`,
            );
            if (generated) ctx.stdout.write(`secret: ${secret}\n`);
          }
          if (generated && !o.json)
            ctx.stderr.write(
              "the secret is shown once: give it to the receiver to check webhook-signature\n",
            );
          return 0;
        } catch (err) {
          for (const step of undo.reverse()) await step().catch(() => {});
          throw err;
        }
      }),
    );

  withConnection(
    withJson(hooks.command("ls").summary("list the API destinations (webhooks among them)")),
  ).action(
    ctx.action(async (o: Flags) => {
      const out = await awsJson<{
        ApiDestinations: Array<{
          Name: string;
          HttpMethod: string;
          InvocationEndpoint: string;
          InvocationRateLimitPerSecond: number;
        }>;
      }>(ctx.client(o), EVENTS, "ListApiDestinations", {});
      if (o.json) ctx.json(out);
      else
        ctx.stdout.write(
          table(
            ["NAME", "METHOD", "ENDPOINT", "RATE"],
            out.ApiDestinations.map((d) => [
              d.Name,
              d.HttpMethod,
              d.InvocationEndpoint,
              String(d.InvocationRateLimitPerSecond),
            ]),
            [3],
          ),
        );
      return 0;
    }),
  );

  withConnection(
    hooks
      .command("rm <name>")
      .summary("remove a webhook: its rule's target, the rule, the API destination, the connection")
      .option("--bus <name|arn>", "the event bus its rule is on (default: default)"),
  ).action(
    ctx.action(async (name: string, o: Flags<{ bus?: string }>) => {
      const removed = await removeWebhook(ctx.client(o), name, o.bus);
      if (removed.length === 0) {
        ctx.stderr.write(`error: there is no webhook named ${name}\n`);
        return 1;
      }
      ctx.stdout.write(`removed ${removed.join(", ")}\n`);
      return 0;
    }),
  );
}

/** Removes what there is of a webhook's parts; answers the parts removed. */
async function removeWebhook(client: NimbusClient, name: string, bus: string | undefined): Promise<string[]> {
  const on = bus ? { EventBusName: bus } : {};
  const removed: string[] = [];
  const step = async (what: string, action: string, input: Record<string, unknown>) => {
    try {
      await awsJson(client, EVENTS, action, input);
      removed.push(what);
    } catch (err) {
      if (!(err as Error).message.startsWith("ResourceNotFoundException")) throw err;
    }
  };
  const targets = await awsJson<{ Targets: Array<{ Id: string }> }>(client, EVENTS, "ListTargetsByRule", {
    Rule: name,
    ...on,
  }).catch((err: Error) => {
    if (err.message.startsWith("ResourceNotFoundException")) return undefined;
    throw err;
  });
  if (targets?.Targets.some((t) => t.Id === TARGET_ID))
    await step("target", "RemoveTargets", { Rule: name, Ids: [TARGET_ID], ...on });
  if (targets) await step("rule", "DeleteRule", { Name: name, ...on });
  await step("API destination", "DeleteApiDestination", { Name: name });
  await step("connection", "DeleteConnection", { Name: name });
  return removed;
}
