/**
 * The AWS Lambda REST API (2015-03-31 and friends): same paths, bodies, status codes and
 * error shapes as Lambda, so @aws-sdk/client-lambda and the aws CLI work unchanged. Routes
 * parse and shape; the registry, invoke service and dispatcher hold the logic.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { AsyncInvoker } from "../../../control/async/async-invoker.js";
import type { EventConfigs } from "../../../control/async/event-configs.js";
import type { CodeUrls } from "../../../control/code-urls.js";
import type { Dispatcher } from "../../../control/dispatcher.js";
import type { InvokeService } from "../../../control/invoke-service.js";
import type { ProvisionedConcurrency } from "../../../control/provisioned.js";
import type { Registry } from "../../../control/registry/registry.js";
import type { AccountUsage } from "../../../control/registry/repo.js";
import { initPhasesHeader } from "../../../control/report.js";
import type { EventSourceMappings } from "../../../control/triggers/mappings/mappings.js";
import type { FunctionUrls } from "../../../control/urls/function-urls.js";
import type { FunctionVersion } from "../../../protocol/function.js";
import { INIT_PHASES_HEADER } from "../../../protocol/invoke.js";
import { NimbusError } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";
import * as decode from "./decode.js";
import { eventSourceMappingRoutes } from "./event-source-mappings.js";
import { functionUrlRoutes } from "./function-urls.js";
import {
  type ArnContext,
  aliasConfiguration,
  eventInvokeConfiguration,
  functionConfiguration,
  getFunctionBody,
  provisionedConfiguration,
  type SnapStartView,
} from "./shapes.js";
import { streamInvokeRoute } from "./stream-invoke.js";
import { notImplemented, routePattern, UNSUPPORTED_OPERATIONS } from "./unsupported.js";

export interface LambdaApiDeps {
  /** Epoch ms now (the platform's clock). */
  readonly now: () => number;
  readonly registry: Registry;
  readonly invoke: InvokeService;
  readonly async: AsyncInvoker;
  readonly eventConfigs: EventConfigs;
  readonly dispatcher: Dispatcher;
  readonly provisioned: ProvisionedConcurrency;
  /** Whether a version's cold starts restore a snapshot, and why not. */
  readonly snapStart: (fn: FunctionVersion) => SnapStartView;
  readonly arn: ArnContext;
  readonly accountConcurrency: number;
  /** What GetAccountSettings reports as used: functions, and code stored by all their versions. */
  readonly accountUsage: () => Promise<AccountUsage>;
  /** Signs GetFunction's Code.Location, a link to the package that expires. */
  readonly codeUrls: CodeUrls;
  readonly urls: FunctionUrls;
  readonly mappings: EventSourceMappings;
}

/** The routes; the gateway has read the body and checked its signature before any of them runs. */
export function lambdaApi(d: LambdaApiDeps): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();

  const json = async (c: Context<SurfaceEnv>) => parseJsonObject(bodyOf(c));
  const cfg = (fn: Parameters<typeof functionConfiguration>[1]) =>
    functionConfiguration(d.arn, fn, d.snapStart(fn));
  const name = (c: Context) => c.req.param("name")!;

  // ── Functions ──────────────────────────────────────────────────────────────
  app.post("/2015-03-31/functions", async (c) =>
    c.json(cfg(await d.registry.create(decode.createFunction(await json(c)))), 201),
  );

  const list = async (c: Context) => {
    const maxRaw = c.req.query("MaxItems");
    const maxItems = maxRaw === undefined ? 50 : Number(maxRaw);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000) {
      throw new NimbusError("InvalidParameter", `MaxItems must be an integer from 1 to 10000, got ${maxRaw}`);
    }
    const { fns, next } = await d.registry.list(c.req.query("Marker") || undefined, maxItems);
    return c.json({ Functions: fns.map(cfg), ...(next ? { NextMarker: next } : {}) });
  };
  app.get("/2015-03-31/functions", list);
  app.get("/2015-03-31/functions/", list);

  app.get("/2015-03-31/functions/:name", async (c) => {
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    const { fn, record } = await d.registry.get(ref.name, ref.qualifier);
    // On the host and port the caller reached, which is where it can fetch from.
    const codeUrl = d.codeUrls.sign(new URL(c.req.url).origin, fn.packageId);
    const tags = await d.registry.tags.list(fn.functionName);
    return c.json(getFunctionBody(d.arn, fn, record, codeUrl, tags, d.snapStart(fn)));
  });
  app.delete("/2015-03-31/functions/:name", async (c) => {
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    await d.registry.delete(ref.name, ref.qualifier);
    return c.body(null, 204);
  });
  app.get("/2015-03-31/functions/:name/configuration", async (c) => {
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    return c.json(cfg((await d.registry.get(ref.name, ref.qualifier)).fn));
  });
  // Bodies are read (and the signature checked) before anything in the request is judged.
  app.put("/2015-03-31/functions/:name/configuration", async (c) => {
    const patch = decode.updateConfiguration(await json(c));
    return c.json(cfg(await d.registry.updateConfiguration(decode.functionName(name(c)), patch)));
  });
  app.put("/2015-03-31/functions/:name/code", async (c) => {
    const update = decode.updateCode(await json(c));
    return c.json(cfg(await d.registry.updateCode(decode.functionName(name(c)), update)));
  });

  // ── Versions and aliases ───────────────────────────────────────────────────
  app.post("/2015-03-31/functions/:name/versions", async (c) => {
    const spec = decode.publishVersion(await json(c));
    return c.json(cfg(await d.registry.publish(decode.functionName(name(c)), spec)), 201);
  });
  app.get("/2015-03-31/functions/:name/versions", async (c) => {
    return c.json({ Versions: (await d.registry.listVersions(decode.functionName(name(c)))).map(cfg) });
  });
  app.post("/2015-03-31/functions/:name/aliases", async (c) => {
    const spec = decode.createAlias(await json(c));
    return c.json(
      aliasConfiguration(d.arn, await d.registry.createAlias(decode.functionName(name(c)), spec)),
      201,
    );
  });
  app.get("/2015-03-31/functions/:name/aliases", async (c) => {
    return c.json({
      Aliases: (await d.registry.listAliases(decode.functionName(name(c)))).map((a) =>
        aliasConfiguration(d.arn, a),
      ),
    });
  });
  app.get("/2015-03-31/functions/:name/aliases/:alias", async (c) => {
    const alias = await d.registry.getAlias(decode.functionName(name(c)), c.req.param("alias"));
    return c.json(aliasConfiguration(d.arn, alias));
  });
  app.put("/2015-03-31/functions/:name/aliases/:alias", async (c) => {
    const patch = decode.updateAlias(await json(c));
    const alias = await d.registry.updateAlias(decode.functionName(name(c)), c.req.param("alias"), patch);
    return c.json(aliasConfiguration(d.arn, alias));
  });
  app.delete("/2015-03-31/functions/:name/aliases/:alias", async (c) => {
    await d.registry.deleteAlias(decode.functionName(name(c)), c.req.param("alias"));
    return c.body(null, 204);
  });

  // ── Concurrency ────────────────────────────────────────────────────────────
  app.put("/2017-10-31/functions/:name/concurrency", async (c) => {
    const body = await json(c);
    const fnName = (await d.registry.get(decode.functionName(name(c)))).fn.functionName;
    const n = await d.registry.putConcurrency(
      fnName,
      decode.reservedConcurrency(body),
      d.dispatcher.unreservedCapacity(fnName),
      d.dispatcher.unreservedMinimum(),
    );
    return c.json({ ReservedConcurrentExecutions: n });
  });
  app.delete("/2017-10-31/functions/:name/concurrency", async (c) => {
    await d.registry.deleteConcurrency(decode.functionName(name(c)));
    return c.body(null, 204);
  });
  app.get("/2019-09-30/functions/:name/concurrency", async (c) => {
    const n = await d.registry.getConcurrency(decode.functionName(name(c)));
    return c.json(n === undefined ? {} : { ReservedConcurrentExecutions: n });
  });
  const accountSettings = async (c: Context) => {
    const usage = await d.accountUsage();
    return c.json({
      AccountLimit: {
        TotalCodeSize: 80 * 1024 ** 3,
        CodeSizeUnzipped: 250 * 1024 ** 2,
        CodeSizeZipped: 50 * 1024 ** 2,
        ConcurrentExecutions: d.accountConcurrency,
        UnreservedConcurrentExecutions: d.dispatcher.unreservedCapacity(),
      },
      AccountUsage: { TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount },
    });
  };
  app.get("/2016-08-19/account-settings", accountSettings);
  // The AWS CLI v2 sends it with a trailing slash, the JS SDK without.
  app.get("/2016-08-19/account-settings/", accountSettings);

  // ── Tags: on a function, named by its unqualified ARN ───────────────────────
  const TAGS = "/2017-03-31/tags/:arn";
  const tagged = (c: Context) => decode.taggedFunction(c.req.param("arn")!, d.arn);
  app.get(TAGS, async (c) => c.json({ Tags: await d.registry.tags.list(tagged(c)) }));
  app.post(TAGS, async (c) => {
    const tags = decode.tagResource(await json(c));
    await d.registry.tags.add(tagged(c), tags);
    return c.body(null, 204);
  });
  app.delete(TAGS, async (c) => {
    await d.registry.tags.remove(tagged(c), decode.untagKeys(c.req.queries("tagKeys") ?? []));
    return c.body(null, 204);
  });

  // ── Event invoke configuration (async retries, event age, destinations) ──
  const EIC = "/2019-09-25/functions/:name/event-invoke-config";
  const eic = (x: Parameters<typeof eventInvokeConfiguration>[1]) => eventInvokeConfiguration(d.arn, x);
  app.put(EIC, async (c) => {
    const spec = decode.eventInvokeConfig(await json(c));
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    return c.json(eic(await d.eventConfigs.put(ref.name, ref.qualifier, spec)));
  });
  app.post(EIC, async (c) => {
    const spec = decode.eventInvokeConfig(await json(c));
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    return c.json(eic(await d.eventConfigs.update(ref.name, ref.qualifier, spec)));
  });
  app.get(EIC, async (c) => {
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    return c.json(eic(await d.eventConfigs.get(ref.name, ref.qualifier)));
  });
  app.delete(EIC, async (c) => {
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    await d.eventConfigs.delete(ref.name, ref.qualifier);
    return c.body(null, 204);
  });
  app.get(`${EIC}/list`, async (c) => {
    const configs = await d.eventConfigs.list(decode.functionName(name(c)));
    return c.json({ FunctionEventInvokeConfigs: configs.map(eic) });
  });

  // ── Provisioned concurrency ───────────────────────────────────────────────
  const PC = "/2019-09-30/functions/:name/provisioned-concurrency";
  app.put(PC, async (c) => {
    const requested = decode.provisionedConcurrency(await json(c));
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    const view = await d.provisioned.put(ref.name, ref.qualifier, requested);
    return c.json(provisionedConfiguration(d.arn, view), 202);
  });
  app.get(PC, async (c) => {
    if (c.req.query("List") === "ALL") {
      const views = await d.provisioned.list(decode.functionName(name(c)));
      return c.json({
        ProvisionedConcurrencyConfigs: views.map((p) => provisionedConfiguration(d.arn, p, true)),
      });
    }
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    return c.json(provisionedConfiguration(d.arn, await d.provisioned.get(ref.name, ref.qualifier)));
  });
  app.delete(PC, async (c) => {
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    await d.provisioned.delete(ref.name, ref.qualifier);
    return c.body(null, 204);
  });

  // ── Invoke ─────────────────────────────────────────────────────────────────
  app.post("/2015-03-31/functions/:name/invocations", async (c) => {
    const receivedAt = d.now();
    const payload = bodyOf(c);
    const type = c.req.header("x-amz-invocation-type") ?? "RequestResponse";
    const ref = decode.functionRef(name(c), c.req.query("Qualifier"));
    if (type === "Event") {
      // 202 only once the event is durable; client context is not passed on, as in Lambda.
      const requestId = await d.async.accept({
        functionName: ref.name,
        qualifier: ref.qualifier,
        payload,
        idempotencyKey: c.req.header("x-nimbus-idempotency-key"),
        traceHeader: c.req.header("x-amzn-trace-id"),
      });
      return new Response(null, { status: 202, headers: { "x-amzn-requestid": requestId } });
    }
    if (type !== "RequestResponse" && type !== "DryRun") {
      throw new NimbusError(
        "InvalidParameter",
        `InvocationType must be RequestResponse, Event or DryRun, got ${type}`,
      );
    }
    const out = await d.invoke.invoke({
      functionName: ref.name,
      qualifier: ref.qualifier,
      payload,
      clientContextBase64: c.req.header("x-amz-client-context"),
      dryRun: type === "DryRun",
      // A caller's X-Ray style trace header: the invocation joins its trace, as on Lambda.
      traceId: traceHeader(c.req.header("x-amzn-trace-id")),
      receivedAt,
    });
    const headers: Record<string, string> = {
      "x-amzn-requestid": out.requestId,
      "x-amz-executed-version": out.executedVersion,
    };
    if (type === "DryRun") return new Response(null, { status: 204, headers });
    headers["content-type"] = "application/json";
    if (out.functionError) headers["x-amz-function-error"] = out.functionError;
    if (out.result?.initPhases) headers[INIT_PHASES_HEADER] = initPhasesHeader(out.result.initPhases);
    if (c.req.header("x-amz-log-type") === "Tail" && out.result) {
      headers["x-amz-log-result"] = Buffer.from(out.result.logTail).toString("base64");
    }
    return new Response(out.payload, { status: 200, headers });
  });
  streamInvokeRoute(app, d, traceHeader);

  functionUrlRoutes(app, d);
  eventSourceMappingRoutes(app, d);

  // ── Operations Nimbus does not implement: 501 naming them, once the caller is known ──
  for (const u of UNSUPPORTED_OPERATIONS) {
    const pattern = routePattern(u.path);
    // The AWS CLI sends some list and create paths with a trailing slash.
    app.on(u.method, [pattern, `${pattern}/`], async (c) => {
      throw notImplemented(u, new URL(c.req.url).searchParams);
    });
  }

  return app;
}

/** The caller's trace header when it names a root (`Root=1-…`), else undefined (a new trace). */
function traceHeader(h: string | undefined): string | undefined {
  return h !== undefined && /(?:^|;)\s*Root=1-[0-9a-f]{8}-[0-9a-f]{24}(?:;|$)/.test(h) && h.length <= 512
    ? h
    : undefined;
}
