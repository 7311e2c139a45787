/**
 * `nimbus schedules ls|get|create|rm|enable|disable`: schedules through EventBridge Scheduler's
 * REST-JSON API (`/schedules/{Name}`, signed for `scheduler`). A target given by a function's
 * name becomes its ARN (GetFunction answers it); the role is a fixed ARN, since Nimbus has no
 * IAM and takes any.
 */
import { readFile } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import type { NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type Flags, integer, oneOf, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { functionPath } from "./functions.js";

const SERVICE = "scheduler";

/** A schedule as GetSchedule answers it (the members shown and sent back). */
export interface Schedule {
  Arn: string;
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State: "ENABLED" | "DISABLED";
  CreationDate: number;
  LastModificationDate: number;
  Target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
    DeadLetterConfig?: { Arn: string };
  };
  FlexibleTimeWindow: { Mode: "OFF" | "FLEXIBLE"; MaximumWindowInMinutes?: number };
  ActionAfterCompletion?: string;
  [member: string]: unknown;
}

interface Summary {
  Name: string;
  GroupName: string;
  State: string;
  Target: { Arn: string };
}

interface CreateOptions extends Flags {
  expression: string;
  target: string;
  input?: string;
  timezone?: string;
  group?: string;
  disabled?: boolean;
  flexible?: number;
  start?: number;
  end?: number;
  description?: string;
}

const schedulePath = (name: string) => `/schedules/${encodeURIComponent(name)}`;
const groupQuery = (group: string | undefined) => (group ? { query: { groupName: group } } : {});

export function schedulesCommand(ctx: CliContext): Command {
  const cmd = new Command("schedules")
    .alias("schedule")
    .summary("run functions on a schedule (EventBridge Scheduler)")
    .description(
      "Schedules invoke a function (or send to a queue) at rate(…), cron(…) or at(…) times, with " +
        "EventBridge Scheduler's contract. See docs/events.md.",
    );
  const group = (c: Command) => c.option("--group <name>", "the schedule group (default: default)");

  withConnection(
    withJson(
      group(cmd.command("ls").alias("list").summary("list schedules"))
        .option("--prefix <text>", "only schedules whose name starts with this")
        .option("--state <state>", "only ENABLED or DISABLED ones", oneOf("ENABLED", "DISABLED")),
    ),
  )
    .description(
      "List schedules (of every group, or of --group): name, group, state, expression and target. " +
        '--json prints {"Schedules": [...]}, ListSchedules\' answer (every page).',
    )
    .action(
      ctx.action(async (o: Flags<{ group?: string; prefix?: string; state?: string }>) => {
        const client = ctx.client(o);
        const list: Summary[] = [];
        let token: string | undefined;
        do {
          const query: Record<string, string> = {};
          if (o.group) query.ScheduleGroup = o.group;
          if (o.prefix) query.NamePrefix = o.prefix;
          if (o.state) query.State = o.state;
          if (token) query.NextToken = token;
          const page = await client.json<{ Schedules: Summary[]; NextToken?: string }>("GET", "/schedules", {
            service: SERVICE,
            query,
          });
          list.push(...page.Schedules);
          token = page.NextToken;
        } while (token);
        if (o.json) {
          ctx.json({ Schedules: list });
          return 0;
        }
        if (list.length === 0) {
          ctx.stdout.write("no schedules\n");
          return 0;
        }
        const rows = await Promise.all(
          list.map(async (s) => {
            const full = await getSchedule(client, s.Name, s.GroupName);
            return [s.Name, s.GroupName, s.State, full.ScheduleExpression, targetName(s.Target.Arn)];
          }),
        );
        ctx.stdout.write(table(["NAME", "GROUP", "STATE", "EXPRESSION", "TARGET"], rows));
        return 0;
      }),
    );

  withConnection(withJson(group(cmd.command("get").summary("show a schedule").argument("<name>"))))
    .description("Show a schedule: its expression, state, target and input, window and dates.")
    .action(
      ctx.action(async (name: string, o: Flags<{ group?: string }>) => {
        const s = await getSchedule(ctx.client(o), name, o.group);
        if (o.json) ctx.json(s);
        else ctx.stdout.write(describeSchedule(s));
        return 0;
      }),
    );

  withConnection(
    withJson(
      group(
        cmd
          .command("create")
          .summary("create a schedule")
          .argument("<name>")
          .requiredOption(
            "--expression <expr>",
            "rate(5 minutes), cron(0 9 * * ? *) or at(2030-01-01T09:00:00)",
          )
          .requiredOption(
            "--target <function|arn>",
            "a function's name (or name:alias), or a function or queue ARN",
          )
          .option("--input <json|@file>", "what the target gets: JSON, or @FILE to read it from a file")
          .option("--timezone <tz>", "the expression's time zone, e.g. Europe/Paris (default: UTC)")
          .option("--disabled", "create it disabled")
          .option(
            "--flexible <minutes>",
            "fire within this many minutes of each time, spread out",
            integer(1, 1440),
          )
          .option("--start <time>", "no firing before this ISO time", isoSeconds)
          .option("--end <time>", "no firing after this ISO time", isoSeconds)
          .option("--description <text>", "a description"),
      ),
    ),
  )
    .description("Create a schedule and print its ARN. The target must exist.")
    .addHelpText(
      "after",
      "\nExamples:\n  nimbus schedules create nightly --expression 'cron(0 2 * * ? *)' --target report\n" +
        "  nimbus schedules create poll --expression 'rate(5 minutes)' --target worker:live --input '{\"full\":false}'\n",
    )
    .action(
      ctx.action(async (name: string, o: CreateOptions) => {
        const client = ctx.client(o);
        const arn = await targetArn(client, o.target);
        const input = o.input?.startsWith("@") ? await readFile(o.input.slice(1), "utf8") : o.input;
        const out = await client.json<{ ScheduleArn: string }>("POST", schedulePath(name), {
          service: SERVICE,
          body: JSON.stringify({
            ScheduleExpression: o.expression,
            ...(o.timezone ? { ScheduleExpressionTimezone: o.timezone } : {}),
            ...(o.group ? { GroupName: o.group } : {}),
            ...(o.description ? { Description: o.description } : {}),
            ...(o.start !== undefined ? { StartDate: o.start } : {}),
            ...(o.end !== undefined ? { EndDate: o.end } : {}),
            State: o.disabled ? "DISABLED" : "ENABLED",
            FlexibleTimeWindow:
              o.flexible === undefined
                ? { Mode: "OFF" }
                : { Mode: "FLEXIBLE", MaximumWindowInMinutes: o.flexible },
            Target: {
              Arn: arn,
              RoleArn: `arn:aws:iam::${arn.split(":")[4]}:role/nimbus-scheduler`,
              ...(input !== undefined ? { Input: input } : {}),
            },
          }),
        });
        if (o.json) ctx.json(out);
        else ctx.stdout.write(`created the schedule ${name}: ${out.ScheduleArn}\n`);
        return 0;
      }),
    );

  withConnection(
    group(cmd.command("rm").alias("delete").summary("delete a schedule").argument("<name>")),
  ).action(
    ctx.action(async (name: string, o: Flags<{ group?: string }>) => {
      await ctx.client(o).call("DELETE", schedulePath(name), { service: SERVICE, ...groupQuery(o.group) });
      ctx.stdout.write(`deleted the schedule ${name}\n`);
      return 0;
    }),
  );

  for (const [verb, state] of [
    ["enable", "ENABLED"],
    ["disable", "DISABLED"],
  ] as const)
    withConnection(group(cmd.command(verb).summary(`${verb} a schedule`).argument("<name>")))
      .description(
        `${verb === "enable" ? "Enable" : "Disable"} a schedule: the whole schedule sent back with its new state ` +
          "(UpdateSchedule replaces it). A start date already past is left out, as the update refuses it.",
      )
      .action(
        ctx.action(async (name: string, o: Flags<{ group?: string }>) => {
          const client = ctx.client(o);
          const s = await getSchedule(client, name, o.group);
          if (s.State === state) {
            ctx.stdout.write(`the schedule ${name} is already ${verb}d\n`);
            return 0;
          }
          await client.call("PUT", schedulePath(name), {
            service: SERVICE,
            body: JSON.stringify(updateOf(s, state, Date.now())),
          });
          ctx.stdout.write(`${verb}d the schedule ${name}\n`);
          return 0;
        }),
      );
  return cmd;
}

function getSchedule(client: NimbusClient, name: string, group: string | undefined): Promise<Schedule> {
  return client.json<Schedule>("GET", schedulePath(name), { service: SERVICE, ...groupQuery(group) });
}

/**
 * What UpdateSchedule takes to keep a schedule as it is but for its state: GetSchedule's answer
 * without its read-only members, and without a start date already past (which the update refuses).
 */
export function updateOf(s: Schedule, state: "ENABLED" | "DISABLED", now: number): Record<string, unknown> {
  const { Arn: _arn, Name: _name, CreationDate: _c, LastModificationDate: _m, ...rest } = s;
  const body: Record<string, unknown> = { ...rest, State: state };
  if (s.StartDate !== undefined && s.StartDate * 1000 <= now) delete body.StartDate;
  return body;
}

/** A target ARN as it is; a function's name (or name:qualifier) as its ARN, which GetFunction answers. */
export async function targetArn(client: NimbusClient, target: string): Promise<string> {
  if (target.startsWith("arn:")) return target;
  const [name, qualifier] = target.split(":", 2) as [string, string | undefined];
  const fn = await client.json<{ Configuration: { FunctionArn: string } }>("GET", functionPath(name));
  const unqualified = fn.Configuration.FunctionArn.split(":").slice(0, 7).join(":");
  return qualifier ? `${unqualified}:${qualifier}` : unqualified;
}

/** A target as a table shows it: a function's name (and qualifier), or `sqs:` and a queue's name. */
export function targetName(arn: string): string {
  const fn = /^arn:aws:lambda:[^:]*:[^:]*:function:(.+)$/.exec(arn);
  if (fn) return fn[1]!;
  const queue = /^arn:aws:sqs:[^:]*:[^:]*:(.+)$/.exec(arn);
  return queue ? `sqs:${queue[1]}` : arn;
}

export function describeSchedule(s: Schedule): string {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const w = s.FlexibleTimeWindow;
  const retry = s.Target.RetryPolicy;
  const rows: Array<[string, string | undefined]> = [
    [
      "expression",
      `${s.ScheduleExpression}${s.ScheduleExpressionTimezone ? ` (${s.ScheduleExpressionTimezone})` : ""}`,
    ],
    ["state", s.State],
    ["target", s.Target.Arn],
    ["input", s.Target.Input],
    ["window", w.Mode === "FLEXIBLE" ? `flexible, up to ${w.MaximumWindowInMinutes} minutes` : "off"],
    ["start", s.StartDate === undefined ? undefined : iso(s.StartDate)],
    ["end", s.EndDate === undefined ? undefined : iso(s.EndDate)],
    [
      "retry",
      retry
        ? `up to ${retry.MaximumRetryAttempts} times within ${retry.MaximumEventAgeInSeconds} s`
        : undefined,
    ],
    ["dead-letter", s.Target.DeadLetterConfig?.Arn],
    ["after", s.ActionAfterCompletion === "DELETE" ? "deleted once it has no more times" : undefined],
    ["description", s.Description],
    ["created", iso(s.CreationDate)],
    ["modified", iso(s.LastModificationDate)],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  return `${s.Name} (group ${s.GroupName})\n${shown.map(([k, v]) => `  ${k.padEnd(13)}${v}\n`).join("")}`;
}

/** An ISO time as epoch seconds, Scheduler's timestamps on the wire. */
function isoSeconds(v: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError("expected an ISO time like 2030-01-01T09:00:00Z");
  return t / 1000;
}
