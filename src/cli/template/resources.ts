/**
 * The template's resources, one reader each: a function (its properties and function URL), an
 * event of a function (an HttpApi or Api route), and an HTTP API; each names what it does not
 * support through `problem` and returns the part of the stack spec it describes.
 */
import { resolve as resolvePath } from "node:path";
import { intrinsicOf, type Path } from "./intrinsics.js";
import type { ApiSpec, FunctionSpec, RouteSpec } from "./spec.js";

/** The API a function's HttpApi events join when they name none, as SAM's implicit API. */
export const IMPLICIT_API_ID = "ServerlessHttpApi";

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);

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

export function readFunction(
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

export function readEvent(
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
    problem(
      [...p, "Type"],
      `event type ${String(type)} is not supported (supported: HttpApi, Api, SQS, Schedule, ScheduleV2)`,
    );
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

export function readApi(
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
