/**
 * `nimbus urls create|get|ls|update|rm|call`: function URLs through Lambda's URL-config API,
 * and a quick HTTP call of one (`nimbus invoke NAME --path /…` calls it too).
 */
import { Command, InvalidArgumentError } from "commander";
import type { ConnectionFlags, NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type HttpCallOptions, httpCall, httpCallOptions } from "../http-call.js";
import { collect, type Flags, integer, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { UsageError } from "../usage-error.js";

/** A URL configuration as Lambda's API answers it. */
interface UrlConfig {
  FunctionUrl: string;
  FunctionArn: string;
  AuthType: "NONE" | "AWS_IAM";
  InvokeMode: string;
  Cors?: Record<string, unknown>;
  CreationTime: string;
  LastModifiedTime?: string;
}

interface UrlOptions extends ConnectionFlags {
  qualifier?: string;
  auth?: "NONE" | "AWS_IAM";
  stream?: boolean;
  corsOrigin?: string[];
  corsMethod?: string[];
  corsHeader?: string[];
  corsExpose?: string[];
  corsCredentials?: boolean;
  corsMaxAge?: number;
  cors?: boolean;
  json?: boolean;
}

export function urlPath(fn: string, suffix: "url" | "urls"): string {
  return `/2021-10-31/functions/${encodeURIComponent(fn)}/${suffix}`;
}

export function urlsCommand(ctx: CliContext): Command {
  const cmd = new Command("urls")
    .alias("url")
    .summary("give functions HTTP endpoints (function URLs)")
    .description(
      "A function URL is an HTTP endpoint for a function (its $LATEST, an alias or a version): the " +
        "function gets each request as an API Gateway payload 2.0 event and answers the response. " +
        "See docs/http.md.",
    );

  const settings = (c: Command) =>
    c
      .option("--qualifier <alias|version>", "an alias or a version instead of $LATEST")
      .option(
        "--auth <none|iam>",
        "who may call it: anyone (none) or requests signed with the platform's key (iam)",
        auth,
      )
      .option("--stream", "answer with RESPONSE_STREAM (bytes as the function writes them)")
      .option(
        "--cors-origin <origin>",
        "an origin browsers may call from (http://localhost:5173, or *); repeatable",
        collect,
      )
      .option("--cors-method <method>", "a method browsers may use (GET, POST, *); repeatable", collect)
      .option("--cors-header <name>", "a request header browsers may send; repeatable", collect)
      .option("--cors-expose <name>", "a response header browsers may read; repeatable", collect)
      .option("--cors-credentials", "let browsers send cookies and credentials")
      .option(
        "--cors-max-age <seconds>",
        "how long browsers may cache a preflight's answer",
        integer(0, 86_400),
      );

  withConnection(
    withJson(settings(cmd.command("create").summary("create a function's URL").argument("<function>"))),
  )
    .description("Create the URL of a function (or of its alias or version) and print it.")
    .addHelpText(
      "after",
      "\nExamples:\n  nimbus urls create hello\n  nimbus urls create hello --qualifier live --auth iam --cors-origin http://localhost:5173\n",
    )
    .action(
      ctx.action(async (fn: string, o: UrlOptions) => {
        const body = {
          AuthType: o.auth ?? "NONE",
          ...(o.stream ? { InvokeMode: "RESPONSE_STREAM" } : {}),
          ...corsOf(o),
        };
        const c = await ctx.client(o).json<UrlConfig>("POST", urlPath(fn, "url"), {
          body: JSON.stringify(body),
          ...qualifierQuery(o),
        });
        if (o.json) ctx.json(c);
        else ctx.stdout.write(`${c.FunctionUrl}\n`);
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("get")
        .summary("show a function's URL")
        .argument("<function>")
        .option("--qualifier <alias|version>", "an alias or a version instead of $LATEST"),
    ),
  ).action(
    ctx.action(async (fn: string, o: UrlOptions) => {
      const c = await ctx.client(o).json<UrlConfig>("GET", urlPath(fn, "url"), qualifierQuery(o));
      if (o.json) ctx.json(c);
      else ctx.stdout.write(describe(c));
      return 0;
    }),
  );

  withConnection(
    withJson(cmd.command("ls").alias("list").summary("list a function's URLs").argument("<function>")),
  ).action(
    ctx.action(async (fn: string, o: Flags) => {
      const { FunctionUrlConfigs } = await ctx
        .client(o)
        .json<{ FunctionUrlConfigs: UrlConfig[] }>("GET", urlPath(fn, "urls"));
      if (o.json) ctx.json({ FunctionUrlConfigs });
      else if (FunctionUrlConfigs.length === 0) ctx.stdout.write(`${fn} has no URLs\n`);
      else
        ctx.stdout.write(
          table(
            ["QUALIFIER", "URL", "AUTH", "MODE", "CORS"],
            FunctionUrlConfigs.map((c) => [
              qualifierOf(c.FunctionArn),
              c.FunctionUrl,
              c.AuthType,
              c.InvokeMode,
              c.Cors ? "yes" : "-",
            ]),
          ),
        );
      return 0;
    }),
  );

  withConnection(
    withJson(
      settings(
        cmd.command("update").summary("change a function URL's settings").argument("<function>"),
      ).option("--no-cors", "remove the CORS configuration"),
    ),
  )
    .description("Change a URL's settings; what is left out is kept. Its address stays.")
    .action(
      ctx.action(async (fn: string, o: UrlOptions) => {
        const cors = corsOf(o);
        if (o.cors === false && cors.Cors)
          throw new UsageError("--no-cors cannot be used with --cors-* options");
        const body = {
          ...(o.auth ? { AuthType: o.auth } : {}),
          ...(o.stream ? { InvokeMode: "RESPONSE_STREAM" } : {}),
          ...(o.cors === false ? { Cors: {} } : cors),
        };
        const c = await ctx.client(o).json<UrlConfig>("PUT", urlPath(fn, "url"), {
          body: JSON.stringify(body),
          ...qualifierQuery(o),
        });
        if (o.json) ctx.json(c);
        else ctx.stdout.write(describe(c));
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete a function's URL")
      .argument("<function>")
      .option("--qualifier <alias|version>", "an alias or a version instead of $LATEST"),
  ).action(
    ctx.action(async (fn: string, o: UrlOptions) => {
      await ctx.client(o).call("DELETE", urlPath(fn, "url"), qualifierQuery(o));
      ctx.stdout.write(`deleted the URL of ${fn}${o.qualifier ? `:${o.qualifier}` : ""}\n`);
      return 0;
    }),
  );

  withConnection(
    httpCallOptions(
      cmd
        .command("call")
        .summary("send an HTTP request to a function's URL")
        .argument("<function>")
        .argument("[path]", "the path and query to request", "/")
        .option("--qualifier <alias|version>", "an alias or a version instead of $LATEST"),
    ),
  )
    .description(
      "Send one HTTP request to the function's URL (signed when its auth is iam) and print the status " +
        "line on stderr and the body on stdout. Exit code 1 when the status is 400 or more.",
    )
    .action(
      ctx.action(async (fn: string, path: string, o: CallOptions) => {
        return callUrl(ctx, ctx.client(o), fn, path, o);
      }),
    );
  return cmd;
}

export interface CallOptions extends HttpCallOptions {
  qualifier?: string;
}

/** Calls the function's URL by its path form on the platform's endpoint; the exit code. */
export async function callUrl(
  ctx: CliContext,
  client: NimbusClient,
  fn: string,
  path: string,
  o: CallOptions,
): Promise<number> {
  const config = await client.json<UrlConfig>("GET", urlPath(fn, "url"), qualifierQuery(o));
  // The URL's id: the first label of its host, or the segment after /lambda-url/ in the path form.
  const u = new URL(config.FunctionUrl);
  const id = u.pathname.startsWith("/lambda-url/") ? u.pathname.split("/")[2]! : u.hostname.split(".")[0]!;
  // An open URL is called as a browser would, unsigned.
  return httpCall(ctx, client, `/lambda-url/${id}`, path, o, config.AuthType !== "NONE");
}

function qualifierQuery(o: { qualifier?: string }) {
  return o.qualifier ? { query: { Qualifier: o.qualifier } } : {};
}

function qualifierOf(arn: string): string {
  const parts = arn.split(":");
  return parts.length > 7 ? parts[7]! : "$LATEST";
}

function corsOf(o: UrlOptions): { Cors?: Record<string, unknown> } {
  const cors = {
    ...(o.corsOrigin ? { AllowOrigins: o.corsOrigin } : {}),
    ...(o.corsMethod ? { AllowMethods: o.corsMethod } : {}),
    ...(o.corsHeader ? { AllowHeaders: o.corsHeader } : {}),
    ...(o.corsExpose ? { ExposeHeaders: o.corsExpose } : {}),
    ...(o.corsCredentials ? { AllowCredentials: true } : {}),
    ...(o.corsMaxAge === undefined ? {} : { MaxAge: o.corsMaxAge }),
  };
  return Object.keys(cors).length === 0 ? {} : { Cors: cors };
}

function describe(c: UrlConfig): string {
  const rows: Array<[string, string]> = [
    ["function", c.FunctionArn],
    ["auth", c.AuthType],
    ["mode", c.InvokeMode],
    ["cors", c.Cors ? JSON.stringify(c.Cors) : "-"],
    ["created", c.CreationTime],
  ];
  return `${c.FunctionUrl}\n${rows.map(([k, v]) => `  ${k.padEnd(10)}${v}\n`).join("")}`;
}

function auth(v: string): "NONE" | "AWS_IAM" {
  const s = v.toLowerCase();
  if (s === "none") return "NONE";
  if (s === "iam" || s === "aws_iam") return "AWS_IAM";
  throw new InvalidArgumentError("expected none or iam");
}
