/**
 * Lambda's event source mapping operations (2015-03-31): Create, Get, Update, Delete and List,
 * in Lambda's shapes and status codes (202 for create, update and delete). SQS queues are the
 * sources Nimbus serves; `FunctionName` may be a name, an ARN or `name:qualifier`.
 */
import type { Context, Hono } from "hono";
import * as v from "../../../control/registry/validate.js";
import type {
  EventSourceMappings,
  MappingPatch,
  MappingSpec,
} from "../../../control/triggers/mappings/mappings.js";
import type { EventSourceMapping } from "../../../control/triggers/mappings/repo.js";
import { NimbusError } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";
import * as decode from "./decode.js";
import { type Body, Fields } from "./fields.js";
import { type ArnContext, functionArnOf } from "./shapes.js";

export interface MappingRoutesDeps {
  readonly mappings: EventSourceMappings;
  readonly arn: ArnContext;
}

/** Sources of other kinds Lambda has; named in the refusal so a user sees what is not served. */
const SQS_ARN = /^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

export function eventSourceMappingRoutes(app: Hono<SurfaceEnv>, d: MappingRoutesDeps): void {
  const base = "/2015-03-31/event-source-mappings";
  const shape = (m: EventSourceMapping) => mappingShape(d.arn, m);
  const uuid = (c: Context<SurfaceEnv>) => c.req.param("uuid")!;

  const create = async (c: Context<SurfaceEnv>) => {
    const spec = mappingSpec(parseJsonObject(bodyOf(c)));
    return c.json(shape(await d.mappings.create(spec)), 202);
  };
  app.post(base, create);
  app.post(`${base}/`, create);
  app.get(`${base}/:uuid`, async (c) => c.json(shape(await d.mappings.get(uuid(c)))));
  app.put(`${base}/:uuid`, async (c) => {
    const patch = mappingPatch(parseJsonObject(bodyOf(c)));
    return c.json(shape(await d.mappings.update(uuid(c), patch)), 202);
  });
  app.delete(`${base}/:uuid`, async (c) => c.json(shape(await d.mappings.delete(uuid(c))), 202));
  const list = async (c: Context<SurfaceEnv>) => {
    const maxRaw = c.req.query("MaxItems");
    const limit = maxRaw === undefined ? 100 : Number(maxRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new NimbusError("InvalidParameter", `MaxItems must be an integer from 1 to 10000, got ${maxRaw}`);
    const fnRaw = c.req.query("FunctionName");
    const page = await d.mappings.list({
      eventSourceArn: c.req.query("EventSourceArn") || undefined,
      functionName: fnRaw ? decode.functionRef(fnRaw).name : undefined,
      after: c.req.query("Marker") || undefined,
      limit: limit + 1,
    });
    const items = page.slice(0, limit);
    return c.json({
      EventSourceMappings: items.map(shape),
      ...(page.length > limit ? { NextMarker: items[items.length - 1]!.uuid } : {}),
    });
  };
  app.get(base, list);
  app.get(`${base}/`, list);
}

function mappingShape(arn: ArnContext, m: EventSourceMapping) {
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
    EventSourceArn: m.eventSourceArn,
    FunctionArn: functionArnOf(arn, m.functionName, m.qualifier),
    LastModified: m.lastModified / 1000,
    LastProcessingResult: m.lastProcessingResult,
    State: m.state,
    StateTransitionReason: m.stateTransitionReason,
    FunctionResponseTypes: [...m.functionResponseTypes],
    ...(m.filters.length > 0
      ? { FilterCriteria: { Filters: m.filters.map((Pattern) => ({ Pattern })) } }
      : {}),
    ...(m.maximumConcurrency !== undefined
      ? { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } }
      : {}),
    EventSourceMappingArn: `arn:aws:lambda:${arn.region}:${arn.accountId}:event-source-mapping:${m.uuid}`,
  };
}

function mappingSpec(body: Body): MappingSpec {
  const f = new Fields(body);
  const source = f.required("EventSourceArn", "eventSourceArn", "string", "be the ARN of an SQS queue");
  const fn = f.required("FunctionName", "functionName", "string", "be a function name or ARN");
  const rest = common(f, body);
  f.done();
  if (!SQS_ARN.test(source!))
    throw v.invalid(
      "eventSourceArn",
      source,
      "be the ARN of an SQS queue, arn:aws:sqs:<region>:<account-id>:<queue-name> (Nimbus serves queues as event sources)",
      "pattern",
    );
  const ref = decode.functionRef(fn!);
  return { eventSourceArn: source!, functionName: ref.name, qualifier: ref.qualifier, ...rest };
}

function mappingPatch(body: Body): MappingPatch {
  const f = new Fields(body);
  const fn = f.optional("FunctionName", "functionName", "string", "be a function name or ARN");
  const rest = common(f, body);
  f.done();
  if (fn === undefined) return rest;
  const ref = decode.functionRef(fn);
  return { ...rest, functionName: ref.name, qualifier: ref.qualifier };
}

/** The members create and update share. */
function common(f: Fields, body: Body): Omit<MappingPatch, "functionName" | "qualifier"> {
  const enabled = body.Enabled;
  if (enabled !== undefined && typeof enabled !== "boolean")
    f.problems.push(v.problem("enabled", enabled, "type", "be a boolean"));
  const types = body.FunctionResponseTypes;
  if (types !== undefined && (!Array.isArray(types) || !types.every((t) => typeof t === "string")))
    f.problems.push(v.problem("functionResponseTypes", types, "type", "be a list of strings"));
  const filters = filterPatterns(f, body.FilterCriteria);
  const scaling = body.ScalingConfig;
  let maximumConcurrency: number | undefined;
  if (scaling !== undefined && scaling !== null) {
    const c = (scaling as Body).MaximumConcurrency;
    if (c !== undefined && typeof c !== "number")
      f.problems.push(v.problem("scalingConfig.maximumConcurrency", c, "type", "be a number"));
    else maximumConcurrency = c as number | undefined;
  }
  return {
    enabled: enabled as boolean | undefined,
    batchSize: f.optional("BatchSize", "batchSize", "number", "be a number"),
    maximumBatchingWindowInSeconds: f.optional(
      "MaximumBatchingWindowInSeconds",
      "maximumBatchingWindowInSeconds",
      "number",
      "be a number",
    ),
    functionResponseTypes: types as string[] | undefined,
    filters,
    ...(scaling !== undefined ? { maximumConcurrency } : {}),
  };
}

function filterPatterns(f: Fields, raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw === null ? [] : (raw as Body).Filters;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    f.problems.push(v.problem("filterCriteria.filters", list, "type", "be a list of {Pattern}"));
    return undefined;
  }
  return list.map((item, i) => {
    const p = (item as Body | null)?.Pattern;
    if (typeof p !== "string")
      f.problems.push(v.problem(`filterCriteria.filters.${i}.pattern`, p, "type", "be a string"));
    return String(p);
  });
}
