/**
 * Reads a SAM template (the subset Nimbus supports) into a stack specification: its functions,
 * HTTP APIs, queues, SQS events and schedules, with Globals merged, parameters and intrinsics resolved, and
 * every property or type outside the subset named (with its line) in one report instead of
 * being dropped.
 */
import { dirname, resolve as resolvePath } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import {
  INTRINSIC_TAGS,
  intrinsicOf,
  type Path,
  pathText,
  type ResolveContext,
  resolve,
  TemplateError,
  toPlain,
} from "./intrinsics.js";
import {
  deadLetterArn,
  isTrue,
  QUEUE_PROPS,
  queueName,
  readQueue,
  readQueueEvent,
} from "./queue-resources.js";
import { IMPLICIT_API_ID, readApi, readEvent, readFunction } from "./resources.js";
import { checkScheduleNames, readScheduleEvent } from "./schedule-resources.js";
import {
  type ApiSpec,
  type FunctionSpec,
  functionArn,
  type QueueEventSpec,
  type QueueSpec,
  queueArn,
  queueUrl,
  type RouteSpec,
  type ScheduleSpec,
  type StackSpec,
  scheduleGroupName,
} from "./spec.js";

export const SAM_TRANSFORM = "AWS::Serverless-2016-10-31";
/** The logical id SAM gives the API that events without an ApiId share. */

const TOP_LEVEL = [
  "AWSTemplateFormatVersion",
  "Transform",
  "Description",
  "Parameters",
  "Globals",
  "Resources",
];
/** Read and reported, but with no effect on what is deployed. */
const IGNORED_TOP_LEVEL = ["Outputs", "Metadata"];
const PARAMETER_KEYS = ["Type", "Default", "Description", "AllowedValues"];
const FUNCTION_GLOBALS = [
  "CodeUri",
  "Handler",
  "Runtime",
  "MemorySize",
  "Timeout",
  "Environment",
  "Description",
  "AutoPublishAlias",
  "FunctionUrlConfig",
];
const FUNCTION_PROPS = [...FUNCTION_GLOBALS, "FunctionName", "Events"];
const HTTP_API_GLOBALS = ["CorsConfiguration", "Auth", "StageVariables", "AccessLogSettings"];
const HTTP_API_PROPS = [...HTTP_API_GLOBALS, "Name", "StageName", "Description"];

export interface ParseOptions {
  readonly file: string;
  readonly text: string;
  readonly stackName: string;
  readonly region: string;
  /** The platform's account, for ARNs; undefined when it is not known (no function yet). */
  readonly accountId?: string | undefined;
  /** The platform's address, for queue URLs (`!Ref` of a queue); undefined when not known. */
  readonly endpoint?: string | undefined;
  readonly parameterOverrides?: Readonly<Record<string, string>>;
}

/** Everything wrong with a template at once: the command exits 2 with the list. */
export class TemplateProblems extends Error {
  override readonly name = "TemplateProblems";
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses and checks a template; throws TemplateProblems naming everything outside the subset. */
export function parseTemplate(o: ParseOptions): StackSpec {
  const lines = new LineCounter();
  const doc = parseDocument(o.text, { customTags: INTRINSIC_TAGS, lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0)
    throw new TemplateProblems(
      o.file,
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        return `${at ? `${at.line}:${at.col}: ` : ""}${e.message.split("\n")[0]}`;
      }),
    );
  const { value, positions } = toPlain(doc, lines);
  const where = (p: Path) => {
    const at = positions.at(p);
    return at ? `${at} ${pathText(p)}` : pathText(p);
  };
  const problems: string[] = [];
  const warnings: string[] = [];
  const problem = (p: Path, message: string) => problems.push(`${where(p)}: ${message}`);
  const onlyKeys = (v: Dict, allowed: readonly string[], p: Path, what: string) => {
    for (const k of Object.keys(v))
      if (!allowed.includes(k)) problem([...p, k], `${what} property ${k} is not supported`);
  };
  if (!isDict(value)) throw new TemplateProblems(o.file, ["the template is not a YAML mapping"]);

  for (const k of Object.keys(value)) {
    if (IGNORED_TOP_LEVEL.includes(k)) warnings.push(`${where([k])}: ${k} is read but not evaluated`);
    else if (!TOP_LEVEL.includes(k)) problem([k], `the section ${k} is not supported`);
  }
  const transforms = Array.isArray(value.Transform) ? value.Transform : [value.Transform];
  if (!transforms.includes(SAM_TRANSFORM))
    problem(
      ["Transform"],
      `expected Transform: ${SAM_TRANSFORM}, got ${JSON.stringify(value.Transform ?? null)}`,
    );

  const parameters = readParameters(value.Parameters, o.parameterOverrides ?? {}, problem);
  const resources = isDict(value.Resources) ? value.Resources : {};
  if (!isDict(value.Resources) || Object.keys(resources).length === 0)
    problem(["Resources"], "expected at least one resource");

  const globals = isDict(value.Globals) ? value.Globals : {};
  for (const [section, body] of Object.entries(globals)) {
    const allowed =
      section === "Function" ? FUNCTION_GLOBALS : section === "HttpApi" ? HTTP_API_GLOBALS : undefined;
    if (!allowed)
      problem(["Globals", section], `Globals.${section} is not supported (supported: Function, HttpApi)`);
    else if (isDict(body)) onlyKeys(body, allowed, ["Globals", section], `Globals.${section}`);
  }

  const pseudo: ResolveContext = {
    ref(name) {
      if (name in parameters) return parameters[name];
      if (name === "AWS::Region") return o.region;
      if (name === "AWS::StackName") return o.stackName;
      if (name === "AWS::Partition") return "aws";
      if (name === "AWS::AccountId") return o.accountId;
      return undefined;
    },
    getAtt: () => undefined,
  };
  const names = new Map<string, string>();
  const queueNames = new Map<string, { name: string; fifo: boolean }>();
  const early = (v: unknown, p: Path): unknown => {
    try {
      return resolve(v, pseudo, p, where);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    const type = isDict(r) ? r.Type : undefined;
    if (type === "AWS::SQS::Queue") {
      // As a function's name: only parameters can be used in what names a queue.
      const props = isDict(r) && isDict(r.Properties) ? r.Properties : {};
      const p = ["Resources", id, "Properties"];
      const fifo = isTrue(early(props.FifoQueue, [...p, "FifoQueue"]));
      const explicit = early(props.QueueName, [...p, "QueueName"]);
      queueNames.set(id, { name: queueName(o.stackName, id, explicit, fifo, p, problem), fifo });
    } else if (type === "AWS::Serverless::Function") {
      const props = isDict(r) && isDict(r.Properties) ? r.Properties : {};
      // Resolved before the others, which may name the function: only parameters can be used in it.
      let explicit: unknown;
      try {
        explicit = resolve(
          props.FunctionName,
          pseudo,
          ["Resources", id, "Properties", "FunctionName"],
          where,
        );
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        problems.push(err.message);
      }
      names.set(id, typeof explicit === "string" ? explicit : `${o.stackName}-${id}`);
    } else if (type !== "AWS::Serverless::HttpApi") {
      problem(
        ["Resources", id, "Type"],
        `resource type ${String(type)} is not supported (supported: AWS::Serverless::Function, AWS::Serverless::HttpApi, AWS::SQS::Queue)`,
      );
    }
    if (isDict(r))
      for (const k of Object.keys(r))
        if (k !== "Type" && k !== "Properties")
          problem(["Resources", id, k], `resource attribute ${k} is not supported`);
  }

  // A queue's Ref is its URL; its attributes Arn, QueueName and QueueUrl.
  const urlOf = (name: string) =>
    o.endpoint === undefined || o.accountId === undefined
      ? undefined
      : queueUrl(o.endpoint, o.accountId, name);
  const ctx: ResolveContext = {
    ref: (name) => {
      const queue = queueNames.get(name);
      return pseudo.ref(name) ?? names.get(name) ?? (queue && urlOf(queue.name));
    },
    getAtt(id, attribute) {
      const queue = queueNames.get(id);
      if (queue && attribute === "QueueName") return queue.name;
      if (queue && attribute === "QueueUrl") return urlOf(queue.name);
      const name = names.get(id) ?? queue?.name;
      if (name === undefined || attribute !== "Arn" || o.accountId === undefined) return undefined;
      return queue ? queueArn(o.region, o.accountId, name) : functionArn(o.region, o.accountId, name);
    },
  };
  const resolved = (v: unknown, p: Path): unknown => {
    try {
      return resolve(v, ctx, p, where);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  // Property by property, so that one that fails to resolve leaves the others to be checked.
  const resolvedProps = (merged: unknown, p: Path, skip: readonly string[] = []): Dict =>
    Object.fromEntries(
      Object.entries(isDict(merged) ? merged : {})
        .filter(([k]) => !skip.includes(k))
        .map(([k, v]) => [k, resolved(v, [...p, k])]),
    );

  const functions: FunctionSpec[] = [];
  const queues: QueueSpec[] = [];
  const queueEvents: QueueEventSpec[] = [];
  const schedules: ScheduleSpec[] = [];
  const scheduleGroup = scheduleGroupName(o.stackName);
  const warn = (p: Path, message: string) => warnings.push(`${where(p)}: ${message}`);
  const apis = new Map<string, ApiSpec>();
  const routes: Array<RouteSpec & { apiId: string }> = [];
  const templateDir = dirname(resolvePath(o.file));
  for (const [id, r] of Object.entries(resources)) {
    if (!isDict(r)) continue;
    const base: Path = ["Resources", id, "Properties"];
    const own = isDict(r.Properties) ? r.Properties : {};
    if (r.Type === "AWS::Serverless::Function") {
      onlyKeys(own, FUNCTION_PROPS, base, "AWS::Serverless::Function");
      const props = resolvedProps(mergeGlobals(globals.Function, own), base, ["Events"]);
      functions.push(readFunction(id, names.get(id)!, props, base, templateDir, problem));
      const events = isDict(own.Events) ? own.Events : {};
      for (const [eventId, ev] of Object.entries(events)) {
        const p = [...base, "Events", eventId];
        const type = isDict(ev) ? ev.Type : undefined;
        if (type === "SQS" || type === "Schedule" || type === "ScheduleV2") {
          for (const k of Object.keys(ev as Dict))
            if (k !== "Type" && k !== "Properties")
              problem([...p, k], `event property ${k} is not supported`);
          const props = resolvedProps((ev as Dict).Properties, [...p, "Properties"]);
          if (type === "SQS") queueEvents.push(readQueueEvent(id, eventId, props, p, problem));
          else schedules.push(readScheduleEvent(id, eventId, type, props, p, scheduleGroup, problem, warn));
          continue;
        }
        const route = readEvent(id, eventId, ev, p, problem, resolvedProps);
        if (route) routes.push(route);
      }
    } else if (r.Type === "AWS::SQS::Queue") {
      onlyKeys(own, QUEUE_PROPS, base, "AWS::SQS::Queue");
      const { name, fifo } = queueNames.get(id)!;
      queues.push(readQueue(id, name, fifo, resolvedProps(own, base), base, problem));
    } else if (r.Type === "AWS::Serverless::HttpApi") {
      onlyKeys(own, HTTP_API_PROPS, base, "AWS::Serverless::HttpApi");
      const props = resolvedProps(mergeGlobals(globals.HttpApi, own), base);
      apis.set(id, readApi(id, props, `${o.stackName}-${id}`, base, problem));
    }
  }
  if (routes.some((r) => r.apiId === IMPLICIT_API_ID) && !apis.has(IMPLICIT_API_ID)) {
    // SAM names the implicit API after the stack and gives it the Globals.HttpApi settings.
    const props = resolvedProps(mergeGlobals(globals.HttpApi, {}), ["Globals", "HttpApi"]);
    apis.set(IMPLICIT_API_ID, readApi(IMPLICIT_API_ID, props, o.stackName, ["Globals", "HttpApi"], problem));
  }
  for (const { apiId, ...route } of routes) {
    const api = apis.get(apiId);
    if (!api) continue;
    if (api.routes.some((r) => r.routeKey === route.routeKey))
      problem(
        ["Resources", route.functionId, "Properties", "Events"],
        `the route "${route.routeKey}" of ${apiId} is declared twice`,
      );
    if (
      route.authorizer &&
      route.authorizer !== "NONE" &&
      !api.authorizers.some((a) => a.name === route.authorizer)
    )
      problem(
        ["Resources", route.functionId, "Properties", "Events"],
        `the authorizer "${route.authorizer}" is not one of ${apiId}'s Auth.Authorizers`,
      );
    api.routes.push(route);
  }
  const seen = new Set<string>();
  for (const e of queueEvents) {
    const key = `${e.functionId} ${e.queueArn}`;
    if (seen.has(key))
      problem(
        ["Resources", e.functionId, "Properties", "Events", e.eventId],
        `a second SQS event of ${e.functionId} reads ${e.queueArn}: one event source mapping per queue and function`,
      );
    seen.add(key);
  }
  checkScheduleNames(schedules, problem);
  const account = o.accountId;
  const ordered = queuesInOrder(queues, (q) => account && queueArn(o.region, account, q.name));
  if (!ordered) problem(["Resources"], "the queues' RedrivePolicy dead-letter targets form a cycle");
  if (problems.length > 0) throw new TemplateProblems(o.file, problems);
  return {
    stackName: o.stackName,
    functions,
    apis: [...apis.values()],
    queues: ordered!,
    queueEvents,
    schedules,
    scheduleGroup,
    warnings,
  };
}

/** The queues, each after the stack's queue its RedrivePolicy names; undefined on a cycle. */
function queuesInOrder(
  queues: readonly QueueSpec[],
  arnOf: (q: QueueSpec) => string | undefined,
): QueueSpec[] | undefined {
  const byArn = new Map(queues.map((q) => [arnOf(q), q]));
  const out: QueueSpec[] = [];
  const visiting = new Set<QueueSpec>();
  const visit = (q: QueueSpec): boolean => {
    if (out.includes(q)) return true;
    if (visiting.has(q)) return false;
    visiting.add(q);
    const dlq = deadLetterArn(q);
    const target = dlq === undefined ? undefined : byArn.get(dlq);
    if (target && target !== q && !visit(target)) return false;
    out.push(q);
    return true;
  };
  return queues.every(visit) ? out : undefined;
}

function readParameters(
  raw: unknown,
  overrides: Readonly<Record<string, string>>,
  problem: (p: Path, m: string) => void,
): Record<string, string> {
  const out: Record<string, string> = {};
  const declared = isDict(raw) ? raw : {};
  for (const [name, decl] of Object.entries(declared)) {
    const p: Path = ["Parameters", name];
    if (!isDict(decl)) {
      problem(p, "expected a mapping with Type and Default");
      continue;
    }
    for (const k of Object.keys(decl))
      if (!PARAMETER_KEYS.includes(k)) problem([...p, k], `parameter property ${k} is not supported`);
    if (decl.Type !== "String" && decl.Type !== "Number")
      problem(
        [...p, "Type"],
        `parameter type ${String(decl.Type)} is not supported (supported: String, Number)`,
      );
    const value = overrides[name] ?? (decl.Default === undefined ? undefined : String(decl.Default));
    if (value === undefined) {
      problem(p, `parameter ${name} has no Default: give it with --parameter-overrides ${name}=VALUE`);
      continue;
    }
    if (decl.Type === "Number" && !Number.isFinite(Number(value)))
      problem(p, `parameter ${name} is a Number, got "${value}"`);
    if (Array.isArray(decl.AllowedValues) && !decl.AllowedValues.map(String).includes(value))
      problem(p, `parameter ${name} is "${value}", expected one of ${decl.AllowedValues.join(", ")}`);
    out[name] = value;
  }
  for (const name of Object.keys(overrides))
    if (!(name in declared))
      problem(["Parameters"], `--parameter-overrides names ${name}, which the template does not declare`);
  return out;
}

/** SAM's merge of a Globals section into a resource: maps merged key by key, anything else the resource's. */
export function mergeGlobals(global: unknown, own: unknown): unknown {
  if (own === undefined) return global;
  if (isDict(global) && isDict(own) && intrinsicOf(own) === undefined && intrinsicOf(global) === undefined) {
    const out: Dict = { ...global };
    for (const [k, v] of Object.entries(own)) out[k] = mergeGlobals(global[k], v);
    return out;
  }
  return own;
}
