/**
 * `nimbus apis ls|get|rm|call`: HTTP APIs through API Gateway v2's management API (`/v2/apis/…`,
 * signed for `apigateway`), and a quick HTTP call of one by its path form `/execute-api/{id}/…`.
 */
import { Command } from "commander";
import type { NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type HttpCallOptions, httpCall, httpCallOptions } from "../http-call.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { table } from "../output.js";

/** An HTTP API, a stage, a route and an integration as API Gateway v2's API answers them (the members shown). */
interface Api {
  apiId: string;
  name: string;
  apiEndpoint: string;
  description?: string;
  createdDate: string;
  disableExecuteApiEndpoint?: boolean;
}
interface Stage {
  stageName: string;
  deploymentId?: string;
  autoDeploy?: boolean;
}
interface Route {
  routeId: string;
  routeKey: string;
  target?: string;
  authorizationType?: string;
}
interface Integration {
  integrationId: string;
  integrationType: string;
  integrationUri?: string;
}

const SERVICE = "apigateway";

function apiPath(id: string, sub?: "stages" | "routes" | "integrations"): string {
  return `/v2/apis/${encodeURIComponent(id)}${sub ? `/${sub}` : ""}`;
}

/** Every item of a paged list, following `nextToken`. */
async function all<T>(client: NimbusClient, path: string): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.json<{ items?: T[]; nextToken?: string }>("GET", path, {
      service: SERVICE,
      ...(nextToken ? { query: { nextToken } } : {}),
    });
    items.push(...(page.items ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

export function apisCommand(ctx: CliContext): Command {
  const cmd = new Command("apis")
    .alias("api")
    .summary("list, show, delete and call HTTP APIs")
    .description(
      "HTTP APIs (API Gateway v2): routes such as `GET /items/{id}` sent to functions, on stages. " +
        "Create them with a SAM template (nimbus deploy --template), the aws CLI or an AWS SDK. " +
        "See docs/http.md.",
    );

  withConnection(withJson(cmd.command("ls").alias("list").summary("list HTTP APIs")))
    .description("List every HTTP API: its id, name, endpoint, stages and number of routes.")
    .action(
      ctx.action(async (o: Flags) => {
        const client = ctx.client(o);
        const apis = await all<Api>(client, "/v2/apis");
        if (o.json) {
          ctx.json({ items: apis });
          return 0;
        }
        if (apis.length === 0) {
          ctx.stdout.write("no HTTP APIs\n");
          return 0;
        }
        const rows = await Promise.all(
          apis.map(async (a) => {
            const [stages, routes] = await Promise.all([
              all<Stage>(client, apiPath(a.apiId, "stages")),
              all<Route>(client, apiPath(a.apiId, "routes")),
            ]);
            return [
              a.apiId,
              a.name,
              a.apiEndpoint,
              stages.map((s) => s.stageName).join(",") || "-",
              String(routes.length),
            ];
          }),
        );
        ctx.stdout.write(table(["ID", "NAME", "ENDPOINT", "STAGES", "ROUTES"], rows, [4]));
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd.command("get").summary("show an HTTP API").argument("<id>", "the API's id (nimbus apis ls)"),
    ),
  )
    .description(
      "Show an HTTP API: its endpoint, its stages (deployment, auto-deploy) and its routes (the function " +
        "each calls and its authorization). --json prints {api, stages, routes, integrations}, each as " +
        "API Gateway v2's API answers it.",
    )
    .action(
      ctx.action(async (id: string, o: Flags) => {
        const client = ctx.client(o);
        // The API first: an unknown id is then one NotFoundException, not three.
        const api = await client.json<Api>("GET", apiPath(id), { service: SERVICE });
        const [stages, routes, integrations] = await Promise.all([
          all<Stage>(client, apiPath(id, "stages")),
          all<Route>(client, apiPath(id, "routes")),
          all<Integration>(client, apiPath(id, "integrations")),
        ]);
        if (o.json) ctx.json({ api, stages, routes, integrations });
        else ctx.stdout.write(describe(api, stages, routes, integrations));
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete an HTTP API")
      .argument("<id>", "the API's id (nimbus apis ls)"),
  )
    .description("Delete an HTTP API with its routes, integrations, stages and deployments.")
    .action(
      ctx.action(async (id: string, o: Flags) => {
        await ctx.client(o).call("DELETE", apiPath(id), { service: SERVICE });
        ctx.stdout.write(`deleted the HTTP API ${id}\n`);
        return 0;
      }),
    );

  withConnection(
    httpCallOptions(
      cmd
        .command("call")
        .summary("send an HTTP request to an HTTP API")
        .argument("<id>", "the API's id (nimbus apis ls)")
        .argument("[path]", "the path and query to request", "/")
        .option("--stage <name>", "a named stage (default: the $default stage)"),
    ),
  )
    .description(
      "Send one HTTP request, unsigned, to the API by its path form (/execute-api/ID/…) on the platform's " +
        "endpoint and print the status line on stderr and the body on stdout. Exit code 1 when the " +
        "status is 400 or more.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  nimbus apis call a1b2c3d4e5 /items/7\n  nimbus apis call a1b2c3d4e5 /items --stage prod -X POST -d @item.json\n",
    )
    .action(
      ctx.action(async (id: string, path: string, o: HttpCallOptions & { stage?: string }) => {
        const client = ctx.client(o);
        // Checked first so that an unknown id is named as such, not answered by the API's 404.
        await client.call("GET", apiPath(id), { service: SERVICE });
        // The $default stage answers paths without a stage segment; a named one, under its name.
        const stage = o.stage && o.stage !== "$default" ? `/${encodeURIComponent(o.stage)}` : "";
        // Authorization is the API's own (JWT, IAM per route): the call goes out as any client's would.
        return httpCall(ctx, client, `/execute-api/${encodeURIComponent(id)}${stage}`, path, o, false);
      }),
    );
  return cmd;
}

/** The function an integration calls, from its URI: a Lambda ARN, or API Gateway's invocation path around one. */
export function functionOf(uri: string | undefined): string {
  if (!uri) return "-";
  const m = /:function:([^:/]+)(?::([^:/]+))?/.exec(uri);
  if (!m) return uri;
  return m[2] ? `${m[1]}:${m[2]}` : m[1]!;
}

function describe(api: Api, stages: Stage[], routes: Route[], integrations: Integration[]): string {
  const byId = new Map(integrations.map((i) => [i.integrationId, i]));
  const target = (r: Route) => {
    if (!r.target) return "-";
    const i = byId.get(r.target.replace(/^integrations\//, ""));
    return i ? functionOf(i.integrationUri) : r.target;
  };
  let out = `${api.name} (${api.apiId})\n`;
  const rows: Array<[string, string]> = [
    ["endpoint", api.disableExecuteApiEndpoint ? `${api.apiEndpoint} (disabled)` : api.apiEndpoint],
    ...(api.description ? ([["description", api.description]] as Array<[string, string]>) : []),
    ["created", api.createdDate],
  ];
  out += rows.map(([k, v]) => `  ${k.padEnd(12)}${v}\n`).join("");
  out += "\nStages:\n";
  out +=
    stages.length === 0
      ? "  none\n"
      : indent(
          table(
            ["STAGE", "DEPLOYMENT", "AUTO-DEPLOY"],
            stages.map((s) => [s.stageName, s.deploymentId ?? "-", s.autoDeploy ? "yes" : "no"]),
          ),
        );
  out += "\nRoutes:\n";
  out +=
    routes.length === 0
      ? "  none\n"
      : indent(
          table(
            ["ROUTE", "FUNCTION", "AUTH"],
            routes.map((r) => [r.routeKey, target(r), r.authorizationType ?? "NONE"]),
          ),
        );
  return out;
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ").replace(/ {2}$/, "");
}
