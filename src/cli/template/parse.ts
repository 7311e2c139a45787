/**
 * Reads a SAM template (the subset Nimbus supports) into a stack specification: its functions
 * and HTTP APIs, with Globals merged, parameters and intrinsics resolved, and every property
 * or type outside the subset named (with its line) in one report instead of being dropped.
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
import { type ApiSpec, type FunctionSpec, functionArn, type RouteSpec, type StackSpec } from "./spec.js";

export const SAM_TRANSFORM = "AWS::Serverless-2016-10-31";
/** The logical id SAM gives the API that events without an ApiId share. */
export const IMPLICIT_API_ID = "ServerlessHttpApi";

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
const URL_CONFIG_KEYS = ["AuthType", "Cors", "InvokeMode"];
const URL_CORS_KEYS = [
  "AllowCredentials",
  "AllowHeaders",
  "AllowMethods",
  "AllowOrigins",
  "ExposeHeaders",
  "MaxAge",
];
const HTTP_EVENT_KEYS = ["Path", "Method", "ApiId", "PayloadFormatVersion", "Auth"];
const API_EVENT_KEYS = ["Path", "Method"];

export interface ParseOptions {
  readonly file: string;
  readonly text: string;
  readonly stackName: string;
  readonly region: string;
  /** The platform's account, for ARNs; undefined when it is not known (no function yet). */
  readonly accountId?: string | undefined;
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
  for (const [id, r] of Object.entries(resources)) {
    const type = isDict(r) ? r.Type : undefined;
    if (type === "AWS::Serverless::Function") {
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
        `resource type ${String(type)} is not supported (supported: AWS::Serverless::Function, AWS::Serverless::HttpApi)`,
      );
    }
    if (isDict(r))
      for (const k of Object.keys(r))
        if (k !== "Type" && k !== "Properties")
          problem(["Resources", id, k], `resource attribute ${k} is not supported`);
  }

  const ctx: ResolveContext = {
    ref: (name) => pseudo.ref(name) ?? names.get(name),
    getAtt(id, attribute) {
      const name = names.get(id);
      if (name === undefined || attribute !== "Arn" || o.accountId === undefined) return undefined;
      return functionArn(o.region, o.accountId, name);
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
        const route = readEvent(id, eventId, ev, [...base, "Events", eventId], problem, resolvedProps);
        if (route) routes.push(route);
      }
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
  if (problems.length > 0) throw new TemplateProblems(o.file, problems);
  return { stackName: o.stackName, functions, apis: [...apis.values()], warnings };
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

function readFunction(
  id: string,
  name: string,
  props: Dict,
  base: Path,
  templateDir: string,
  problem: (p: Path, m: string) => void,
): FunctionSpec {
  const str = (k: string, fallback?: string): string | undefined => {
    const v = props[k];
    if (v === undefined) return fallback;
    if (typeof v !== "string") problem([...base, k], `expected a string, got ${JSON.stringify(v)}`);
    return typeof v === "string" ? v : fallback;
  };
  const int = (k: string, fallback: number, min: number, max: number): number => {
    const v = props[k];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problem([...base, k], `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };
  if (typeof props.CodeUri !== "string")
    problem([...base, "CodeUri"], "expected a directory (relative to the template)");
  const env = props.Environment;
  const variables: Record<string, string> = {};
  if (env !== undefined) {
    if (!isDict(env)) problem([...base, "Environment"], "expected a mapping with Variables");
    else {
      for (const k of Object.keys(env))
        if (k !== "Variables")
          problem([...base, "Environment", k], `Environment property ${k} is not supported`);
      for (const [k, v] of Object.entries(isDict(env.Variables) ? env.Variables : {}))
        variables[k] = String(v);
    }
  }
  const runtime = str("Runtime", "nodejs20.x")!;
  const spec: FunctionSpec = {
    logicalId: id,
    name,
    codeDir: resolvePath(templateDir, typeof props.CodeUri === "string" ? props.CodeUri : "."),
    runtime,
    handler: str("Handler"),
    memoryMb: int("MemorySize", 128, 128, 10_240),
    timeoutS: int("Timeout", 3, 1, 900),
    environment: variables,
    description: str("Description", "")!,
    alias: str("AutoPublishAlias"),
  };
  const url = props.FunctionUrlConfig;
  if (url !== undefined) {
    const p = [...base, "FunctionUrlConfig"];
    if (!isDict(url)) problem(p, "expected a mapping with AuthType");
    else {
      for (const k of Object.keys(url))
        if (!URL_CONFIG_KEYS.includes(k))
          problem([...p, k], `FunctionUrlConfig property ${k} is not supported`);
      if (url.AuthType !== "NONE" && url.AuthType !== "AWS_IAM")
        problem([...p, "AuthType"], `expected NONE or AWS_IAM, got ${JSON.stringify(url.AuthType ?? null)}`);
      const mode = url.InvokeMode ?? "BUFFERED";
      if (mode !== "BUFFERED" && mode !== "RESPONSE_STREAM")
        problem([...p, "InvokeMode"], `expected BUFFERED or RESPONSE_STREAM, got ${JSON.stringify(mode)}`);
      let cors: Dict | undefined;
      if (url.Cors !== undefined) {
        if (!isDict(url.Cors)) problem([...p, "Cors"], "expected a mapping");
        else {
          for (const k of Object.keys(url.Cors))
            if (!URL_CORS_KEYS.includes(k)) problem([...p, "Cors", k], `Cors property ${k} is not supported`);
          cors = url.Cors;
        }
      }
      spec.url = {
        authType: url.AuthType as "NONE" | "AWS_IAM",
        invokeMode: mode as string,
        ...(cors ? { cors } : {}),
      };
    }
  }
  return spec;
}

function readEvent(
  functionId: string,
  eventId: string,
  ev: unknown,
  p: Path,
  problem: (p: Path, m: string) => void,
  resolvedProps: (merged: unknown, p: Path, skip?: readonly string[]) => Dict,
): (RouteSpec & { apiId: string }) | undefined {
  if (!isDict(ev)) {
    problem(p, "expected a mapping with Type and Properties");
    return undefined;
  }
  const type = ev.Type;
  if (type !== "HttpApi" && type !== "Api") {
    problem([...p, "Type"], `event type ${String(type)} is not supported (supported: HttpApi, Api)`);
    return undefined;
  }
  const raw = isDict(ev.Properties) ? ev.Properties : {};
  const allowed = type === "HttpApi" ? HTTP_EVENT_KEYS : API_EVENT_KEYS;
  for (const k of Object.keys(raw))
    if (!allowed.includes(k))
      problem([...p, "Properties", k], `${type} event property ${k} is not supported`);
  // ApiId names the API structurally (its id exists only once it is created), so it is read, not resolved.
  let apiId = IMPLICIT_API_ID;
  if (raw.ApiId !== undefined) {
    const ref = isDict(raw.ApiId) && intrinsicOf(raw.ApiId) === "Ref" ? raw.ApiId.Ref : undefined;
    if (typeof ref !== "string")
      problem([...p, "Properties", "ApiId"], "expected !Ref to an AWS::Serverless::HttpApi");
    else apiId = ref;
  }
  const props = resolvedProps(raw, [...p, "Properties"], ["ApiId"]);
  const path = props.Path;
  const method = props.Method;
  let routeKey = "$default";
  if (path !== undefined || method !== undefined || type === "Api") {
    if (typeof path !== "string" || !path.startsWith("/"))
      problem(
        [...p, "Properties", "Path"],
        `expected a path starting with "/", got ${JSON.stringify(path ?? null)}`,
      );
    const m = typeof method === "string" ? method.toUpperCase() : "ANY";
    routeKey = `${m} ${String(path)}`;
  }
  const auth = props.Auth;
  let authorizer: string | undefined;
  if (isDict(auth)) {
    for (const k of Object.keys(auth))
      if (k !== "Authorizer")
        problem([...p, "Properties", "Auth", k], `event Auth property ${k} is not supported`);
    if (typeof auth.Authorizer === "string") authorizer = auth.Authorizer;
  }
  const payload = type === "Api" ? "1.0" : String(props.PayloadFormatVersion ?? "2.0");
  if (payload !== "1.0" && payload !== "2.0")
    problem([...p, "Properties", "PayloadFormatVersion"], `expected 1.0 or 2.0, got ${payload}`);
  return {
    apiId,
    functionId,
    eventId,
    routeKey,
    payloadFormatVersion: payload,
    ...(authorizer ? { authorizer } : {}),
  };
}

function readApi(
  id: string,
  props: Dict,
  defaultName: string,
  base: Path,
  problem: (p: Path, m: string) => void,
): ApiSpec {
  const api: ApiSpec = {
    logicalId: id,
    name: typeof props.Name === "string" ? props.Name : defaultName,
    stageName: typeof props.StageName === "string" ? props.StageName : "$default",
    authorizers: [],
    routes: [],
  };
  if (typeof props.Description === "string") api.description = props.Description;
  const cors = props.CorsConfiguration;
  if (cors === true) api.cors = { AllowOrigins: ["*"], AllowMethods: ["*"], AllowHeaders: ["*"] };
  else if (isDict(cors)) {
    for (const k of Object.keys(cors))
      if (!URL_CORS_KEYS.includes(k))
        problem([...base, "CorsConfiguration", k], `CorsConfiguration property ${k} is not supported`);
    api.cors = cors;
  } else if (cors !== undefined && cors !== false)
    problem([...base, "CorsConfiguration"], "expected true or a mapping");
  if (isDict(props.StageVariables))
    api.stageVariables = Object.fromEntries(
      Object.entries(props.StageVariables).map(([k, v]) => [k, String(v)]),
    );
  const log = props.AccessLogSettings;
  if (isDict(log)) {
    for (const k of Object.keys(log))
      if (k !== "DestinationArn" && k !== "Format")
        problem([...base, "AccessLogSettings", k], `AccessLogSettings property ${k} is not supported`);
    api.accessLog = { destinationArn: String(log.DestinationArn ?? ""), format: String(log.Format ?? "") };
  }
  const auth = props.Auth;
  if (isDict(auth)) {
    for (const k of Object.keys(auth))
      if (k !== "Authorizers" && k !== "DefaultAuthorizer")
        problem([...base, "Auth", k], `Auth property ${k} is not supported`);
    for (const [name, a] of Object.entries(isDict(auth.Authorizers) ? auth.Authorizers : {})) {
      const p = [...base, "Auth", "Authorizers", name];
      const jwt = isDict(a) && isDict(a.JwtConfiguration) ? a.JwtConfiguration : undefined;
      if (!isDict(a) || !jwt) {
        problem(p, "only JWT authorizers (JwtConfiguration and IdentitySource) are supported");
        continue;
      }
      for (const k of Object.keys(a))
        if (k !== "JwtConfiguration" && k !== "IdentitySource")
          problem([...p, k], `authorizer property ${k} is not supported`);
      const audience = Array.isArray(jwt.audience)
        ? jwt.audience.map(String)
        : jwt.audience === undefined
          ? []
          : [String(jwt.audience)];
      api.authorizers.push({
        name,
        issuer: String(jwt.issuer ?? ""),
        audience,
        identitySource:
          typeof a.IdentitySource === "string" ? a.IdentitySource : "$request.header.Authorization",
      });
    }
    if (typeof auth.DefaultAuthorizer === "string") {
      if (!api.authorizers.some((a) => a.name === auth.DefaultAuthorizer))
        problem(
          [...base, "Auth", "DefaultAuthorizer"],
          `"${auth.DefaultAuthorizer}" is not one of Auth.Authorizers`,
        );
      api.defaultAuthorizer = auth.DefaultAuthorizer;
    }
  }
  return api;
}
