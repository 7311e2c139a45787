/**
 * The plan: what applying a stack specification to the platform's current state would change,
 * step by step in dependency order (a function, its published alias, its URL; then each HTTP
 * API, its authorizers, integrations, routes and stage), computed without changing anything,
 * and printed as a diff.
 */
import type { ApiSpec, FunctionSpec, StackSpec, UrlSpec } from "./spec.js";

/** A function's configuration as Lambda's API answers it (the fields the plan compares). */
export interface LambdaConfig {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Handler: string;
  MemorySize: number;
  Timeout: number;
  Description?: string;
  Environment?: { Variables?: Record<string, string> };
  CodeSha256: string;
  Version: string;
  RevisionId: string;
}

export interface UrlConfig {
  FunctionUrl: string;
  AuthType: string;
  InvokeMode?: string;
  Cors?: Record<string, unknown>;
}

export interface CurrentFunction {
  readonly config: LambdaConfig;
  /** The AutoPublishAlias's alias and the configuration of the version it points at. */
  readonly alias?: { readonly version: string; readonly config: LambdaConfig } | undefined;
  /** The URL of the alias (or of $LATEST without one). */
  readonly url?: UrlConfig | undefined;
}

/** API Gateway v2's wire shapes (lowerCamelCase), the fields the plan compares. */
export interface CurrentApi {
  readonly apiId: string;
  readonly name: string;
  readonly description?: string;
  readonly corsConfiguration?: Record<string, unknown>;
  readonly routes: ReadonlyArray<{
    routeId: string;
    routeKey: string;
    target?: string;
    authorizationType?: string;
    authorizerId?: string;
  }>;
  readonly integrations: ReadonlyArray<{
    integrationId: string;
    integrationUri?: string;
    payloadFormatVersion?: string;
  }>;
  readonly authorizers: ReadonlyArray<{
    authorizerId: string;
    name: string;
    identitySource?: string[];
    jwtConfiguration?: { issuer?: string; audience?: string[] };
  }>;
  readonly stages: ReadonlyArray<{
    stageName: string;
    autoDeploy?: boolean;
    stageVariables?: Record<string, string>;
    accessLogSettings?: { destinationArn?: string; format?: string };
  }>;
}

export interface CurrentState {
  readonly region: string;
  readonly accountId: string | undefined;
  /** By function name. */
  readonly functions: ReadonlyMap<string, CurrentFunction>;
  /** By the API's logical id (its `nimbus:logical-id` tag). */
  readonly apis: ReadonlyMap<string, CurrentApi>;
}

/** A function's package, built before planning: its CodeSha256 is what the plan compares. */
export interface BuiltCode {
  readonly zip: Buffer;
  /** Base64 sha256, as Lambda's CodeSha256. */
  readonly sha256: string;
  readonly handler: string;
}

export type Action = "create" | "update" | "delete" | "unchanged";

/** A value the apply learns from an earlier step: a function's ARN, a created API's or child's id. */
export type IdRef = { readonly ref: string };

export type Step = { readonly action: Action; readonly changes: readonly string[] } & (
  | {
      readonly kind: "function";
      readonly fn: FunctionSpec;
      readonly code: boolean;
      readonly config: Record<string, unknown>;
    }
  | { readonly kind: "alias"; readonly fn: FunctionSpec; readonly alias: string }
  | {
      readonly kind: "url";
      readonly fn: FunctionSpec;
      readonly qualifier?: string;
      readonly body: Record<string, unknown>;
    }
  | {
      readonly kind: "api";
      readonly api: ApiSpec;
      readonly apiId?: string;
      readonly body: Record<string, unknown>;
    }
  | {
      readonly kind: "authorizer" | "integration" | "route" | "stage";
      readonly api: ApiSpec;
      /** What the step names: an authorizer's name, a route's key, a stage's name, an integration's function. */
      readonly label: string;
      /** Its id when it exists (update, delete); the ref a later step finds it by. */
      readonly id?: string;
      readonly ref: string;
      /** The wire body; values that are IdRefs are filled in at apply. */
      readonly body: Record<string, unknown>;
    }
);

export interface Plan {
  readonly stackName: string;
  readonly steps: readonly Step[];
}

/** The lines a user reads: `+ create function hello`, `~ update function hello: MemorySize 128 → 256`. */
export function describeStep(s: Step): string {
  const mark = { create: "+", update: "~", delete: "-", unchanged: "=" }[s.action];
  const verb = s.action === "unchanged" ? "unchanged" : s.action;
  let what: string;
  switch (s.kind) {
    case "function":
      what = `function ${s.fn.name}`;
      break;
    case "alias":
      what =
        s.action === "unchanged"
          ? `alias ${s.fn.name}:${s.alias}`
          : `alias ${s.fn.name}:${s.alias} (publish a version and point the alias at it)`;
      break;
    case "url":
      what = `URL of ${s.fn.name}${s.qualifier ? `:${s.qualifier}` : ""}`;
      break;
    case "api":
      what = `HTTP API ${s.api.name}`;
      break;
    default:
      what = `${s.kind} ${s.label} of HTTP API ${s.api.name}`;
  }
  return `${mark} ${verb} ${what}${s.changes.length > 0 ? `: ${s.changes.join(", ")}` : ""}`;
}

/** The plan text: one line per step. */
export function describePlan(plan: Plan): string {
  return plan.steps.map((s) => `${describeStep(s)}\n`).join("");
}

export function changed(plan: Plan): Step[] {
  return plan.steps.filter((s) => s.action !== "unchanged");
}

/** Compares what the stack asks for with what there is. Reads nothing: `current` is given. */
export function computePlan(
  stack: StackSpec,
  code: ReadonlyMap<string, BuiltCode>,
  current: CurrentState,
): Plan {
  const steps: Step[] = [];
  for (const fn of stack.functions)
    steps.push(...functionSteps(fn, code.get(fn.logicalId)!, current.functions.get(fn.name)));
  for (const api of stack.apis) steps.push(...apiSteps(stack, api, current));
  return { stackName: stack.stackName, steps };
}

function desiredConfig(fn: FunctionSpec, built: BuiltCode): Record<string, unknown> {
  return {
    Runtime: fn.runtime,
    Handler: built.handler,
    MemorySize: fn.memoryMb,
    Timeout: fn.timeoutS,
    Description: fn.description,
    Environment: { Variables: { ...fn.environment } },
  };
}

/** The differences between a function's configuration and code and the wanted ones, as the diff names them. */
function configChanges(
  fn: FunctionSpec,
  built: BuiltCode,
  c: LambdaConfig,
): { config: string[]; code: boolean } {
  const out: string[] = [];
  const scalar = (name: string, from: unknown, to: unknown) => {
    if (from !== to)
      out.push(`${name} ${JSON.stringify(from ?? null)} → ${JSON.stringify(to)}`.replaceAll('"', ""));
  };
  scalar("Runtime", c.Runtime, fn.runtime);
  scalar("Handler", c.Handler, built.handler);
  scalar("MemorySize", c.MemorySize, fn.memoryMb);
  scalar("Timeout", c.Timeout, fn.timeoutS);
  if ((c.Description ?? "") !== fn.description) out.push("Description");
  const have = c.Environment?.Variables ?? {};
  const names = new Set([...Object.keys(have), ...Object.keys(fn.environment)]);
  // Values are not printed: environment variables often hold secrets.
  for (const k of [...names].sort()) {
    if (!(k in have)) out.push(`Environment ${k} added`);
    else if (!(k in fn.environment)) out.push(`Environment ${k} removed`);
    else if (have[k] !== fn.environment[k]) out.push(`Environment ${k} changed`);
  }
  return { config: out, code: c.CodeSha256 !== built.sha256 };
}

function functionSteps(fn: FunctionSpec, built: BuiltCode, cur: CurrentFunction | undefined): Step[] {
  const config = desiredConfig(fn, built);
  const steps: Step[] = [];
  let changedFunction = true;
  if (!cur) steps.push({ kind: "function", action: "create", changes: [], fn, code: true, config });
  else {
    const diff = configChanges(fn, built, cur.config);
    const changes = [
      ...diff.config,
      ...(diff.code ? [`code ${short(cur.config.CodeSha256)} → ${short(built.sha256)}`] : []),
    ];
    changedFunction = changes.length > 0;
    steps.push({
      kind: "function",
      action: changedFunction ? "update" : "unchanged",
      changes,
      fn,
      code: diff.code,
      config,
    });
  }
  if (fn.alias) {
    // The alias is current when the version it points at has the wanted code and configuration.
    const target = cur?.alias?.config;
    const stale =
      !target ||
      changedFunction ||
      (() => {
        const d = configChanges(fn, built, target);
        return d.code || d.config.length > 0;
      })();
    const action: Action = !cur?.alias ? "create" : stale ? "update" : "unchanged";
    const changes = action === "update" ? [`version ${cur?.alias?.version} → a new version`] : [];
    steps.push({ kind: "alias", action, changes, fn, alias: fn.alias });
  }
  if (fn.url) steps.push(urlStep(fn, fn.url, cur));
  return steps;
}

function urlStep(fn: FunctionSpec, url: UrlSpec, cur: CurrentFunction | undefined): Step {
  const body = { AuthType: url.authType, InvokeMode: url.invokeMode, Cors: url.cors ?? {} };
  const qualifier = fn.alias ? { qualifier: fn.alias } : {};
  const have = cur?.url;
  if (!have) return { kind: "url", action: "create", changes: [], fn, ...qualifier, body };
  const changes: string[] = [];
  if (have.AuthType !== url.authType) changes.push(`AuthType ${have.AuthType} → ${url.authType}`);
  if ((have.InvokeMode ?? "BUFFERED") !== url.invokeMode)
    changes.push(`InvokeMode ${have.InvokeMode ?? "BUFFERED"} → ${url.invokeMode}`);
  if (canonical(have.Cors ?? {}) !== canonical(url.cors ?? {})) changes.push("Cors");
  return {
    kind: "url",
    action: changes.length > 0 ? "update" : "unchanged",
    changes,
    fn,
    ...qualifier,
    body,
  };
}

/** JSON with sorted keys and without empty values, so equal settings compare equal. */
export function canonical(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (typeof x === "object" && x !== null)
      return Object.fromEntries(
        Object.entries(x)
          .filter(([, y]) => y !== undefined && y !== null && !(Array.isArray(y) && y.length === 0))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, y]) => [k, norm(y)]),
      );
    return x;
  };
  return JSON.stringify(norm(v));
}

function short(sha: string): string {
  return sha.slice(0, 8);
}

/** SAM's capitalised CORS names as API Gateway v2's wire names. */
export function wireCors(
  cors: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | undefined {
  if (!cors) return undefined;
  const names: Record<string, string> = {
    AllowOrigins: "allowOrigins",
    AllowMethods: "allowMethods",
    AllowHeaders: "allowHeaders",
    ExposeHeaders: "exposeHeaders",
    AllowCredentials: "allowCredentials",
    MaxAge: "maxAge",
  };
  return Object.fromEntries(Object.entries(cors).map(([k, v]) => [names[k] ?? k, v]));
}

/** The tags CreateApi is given: how a later plan finds the stack's APIs. */
export function apiTags(stackName: string, logicalId: string): Record<string, string> {
  return { "nimbus:stack": stackName, "nimbus:logical-id": logicalId };
}

function apiSteps(stack: StackSpec, api: ApiSpec, state: CurrentState): Step[] {
  const cur = state.apis.get(api.logicalId);
  const steps: Step[] = [];
  const cors = wireCors(api.cors);
  const apiBody: Record<string, unknown> = {
    name: api.name,
    protocolType: "HTTP",
    ...(api.description === undefined ? {} : { description: api.description }),
    ...(cors ? { corsConfiguration: cors } : {}),
  };
  const apiRef = `api:${api.logicalId}`;
  if (!cur)
    steps.push({
      kind: "api",
      action: "create",
      changes: [],
      api,
      body: { ...apiBody, tags: apiTags(stack.stackName, api.logicalId) },
    });
  else {
    const changes: string[] = [];
    if (cur.name !== api.name) changes.push(`name ${cur.name} → ${api.name}`);
    if ((cur.description ?? "") !== (api.description ?? "")) changes.push("description");
    if (canonical(cur.corsConfiguration ?? {}) !== canonical(cors ?? {})) changes.push("corsConfiguration");
    steps.push({
      kind: "api",
      action: changes.length > 0 ? "update" : "unchanged",
      changes,
      api,
      apiId: cur.apiId,
      body: apiBody,
    });
  }
  const child = (
    kind: "authorizer" | "integration" | "route" | "stage",
    label: string,
    ref: string,
    body: Record<string, unknown>,
    existing: { id: string; changes: string[] } | undefined,
  ): Step => ({
    kind,
    api,
    label,
    ref,
    body,
    ...(existing ? { id: existing.id } : {}),
    action: !existing ? "create" : existing.changes.length > 0 ? "update" : "unchanged",
    changes: existing?.changes ?? [],
  });

  for (const a of api.authorizers) {
    const body = {
      name: a.name,
      authorizerType: "JWT",
      identitySource: [a.identitySource],
      jwtConfiguration: { issuer: a.issuer, audience: [...a.audience] },
    };
    const have = cur?.authorizers.find((x) => x.name === a.name);
    const changes: string[] = [];
    if (have) {
      if (canonical(have.identitySource ?? []) !== canonical(body.identitySource))
        changes.push("identitySource");
      if (canonical(have.jwtConfiguration ?? {}) !== canonical(body.jwtConfiguration))
        changes.push("jwtConfiguration");
    }
    steps.push(
      child(
        "authorizer",
        a.name,
        `${apiRef}:authorizer:${a.name}`,
        body,
        have && { id: have.authorizerId, changes },
      ),
    );
  }

  // One integration per function and payload format: routes of one function share it.
  const integrations = new Map<string, string>();
  for (const r of api.routes) {
    const key = `${r.functionId}@${r.payloadFormatVersion}`;
    if (integrations.has(key)) continue;
    const fn = stack.functions.find((f) => f.logicalId === r.functionId);
    const integrationRef = `${apiRef}:integration:${key}`;
    integrations.set(key, integrationRef);
    const fnState = fn && state.functions.get(fn.name);
    // A function that exists has its ARN now; a new one's is learnt when the apply creates it.
    const uri = fnState
      ? `${fnState.config.FunctionArn.replace(/:\d+$|:\$LATEST$/, "")}${fn?.alias ? `:${fn.alias}` : ""}`
      : undefined;
    const have = uri
      ? cur?.integrations.find(
          (i) => i.integrationUri === uri && i.payloadFormatVersion === r.payloadFormatVersion,
        )
      : undefined;
    const body = {
      integrationType: "AWS_PROXY",
      integrationUri: uri ?? { ref: `arn:${r.functionId}` },
      payloadFormatVersion: r.payloadFormatVersion,
    };
    steps.push(
      child(
        "integration",
        `${fn?.name ?? r.functionId} (payload ${r.payloadFormatVersion})`,
        integrationRef,
        body,
        have && { id: have.integrationId, changes: [] },
      ),
    );
  }

  const wantedRoutes = new Set<string>();
  for (const r of api.routes) {
    wantedRoutes.add(r.routeKey);
    const authName = r.authorizer ?? api.defaultAuthorizer;
    const useAuth = authName !== undefined && authName !== "NONE";
    const integrationRef = integrations.get(`${r.functionId}@${r.payloadFormatVersion}`)!;
    const integration = steps.find((s) => s.kind === "integration" && s.ref === integrationRef) as Step & {
      id?: string;
    };
    const authorizer = useAuth
      ? (steps.find((s) => s.kind === "authorizer" && s.label === authName) as Step & {
          id?: string;
          ref: string;
        })
      : undefined;
    const body: Record<string, unknown> = {
      routeKey: r.routeKey,
      target: integration.id
        ? `integrations/${integration.id}`
        : { ref: integrationRef, prefix: "integrations/" },
      authorizationType: useAuth ? "JWT" : "NONE",
      ...(authorizer ? { authorizerId: authorizer.id ?? { ref: authorizer.ref } } : {}),
    };
    const have = cur?.routes.find((x) => x.routeKey === r.routeKey);
    const changes: string[] = [];
    if (have) {
      if (typeof body.target !== "string" || have.target !== body.target) changes.push("target");
      if (
        (have.authorizationType ?? "NONE") !== body.authorizationType ||
        (useAuth && have.authorizerId !== body.authorizerId)
      )
        changes.push(
          `authorization ${have.authorizationType ?? "NONE"} → ${useAuth ? `JWT ${authName}` : "NONE"}`,
        );
    }
    steps.push(
      child(
        "route",
        r.routeKey,
        `${apiRef}:route:${r.routeKey}`,
        body,
        have && { id: have.routeId, changes },
      ),
    );
  }

  const stageBody: Record<string, unknown> = {
    stageName: api.stageName,
    autoDeploy: true,
    ...(api.stageVariables ? { stageVariables: api.stageVariables } : {}),
    ...(api.accessLog ? { accessLogSettings: { ...api.accessLog } } : {}),
  };
  const stage = cur?.stages.find((s) => s.stageName === api.stageName);
  const stageChanges: string[] = [];
  if (stage) {
    if (stage.autoDeploy !== true) stageChanges.push("autoDeploy");
    if (canonical(stage.stageVariables ?? {}) !== canonical(api.stageVariables ?? {}))
      stageChanges.push("stageVariables");
    if (canonical(stage.accessLogSettings ?? {}) !== canonical(api.accessLog ?? {}))
      stageChanges.push("accessLogSettings");
  }
  steps.push(
    child(
      "stage",
      api.stageName,
      `${apiRef}:stage:${api.stageName}`,
      stageBody,
      stage && { id: stage.stageName, changes: stageChanges },
    ),
  );

  // What the API has that the template no longer declares goes, routes before what they use.
  const deletion = (
    kind: "route" | "integration" | "authorizer" | "stage",
    label: string,
    id: string,
  ): Step => ({
    kind,
    api,
    label,
    id,
    ref: `${apiRef}:${kind}:${id}`,
    body: {},
    action: "delete",
    changes: [],
  });
  const keptIntegrations = new Set(
    steps.flatMap((s) => (s.kind === "integration" && "id" in s && s.id ? [s.id] : [])),
  );
  for (const r of cur?.routes ?? [])
    if (!wantedRoutes.has(r.routeKey)) steps.push(deletion("route", r.routeKey, r.routeId));
  for (const i of cur?.integrations ?? [])
    if (!keptIntegrations.has(i.integrationId))
      steps.push(deletion("integration", i.integrationUri ?? i.integrationId, i.integrationId));
  for (const a of cur?.authorizers ?? [])
    if (!api.authorizers.some((x) => x.name === a.name))
      steps.push(deletion("authorizer", a.name, a.authorizerId));
  for (const s of cur?.stages ?? [])
    if (s.stageName !== api.stageName) steps.push(deletion("stage", s.stageName, s.stageName));
  return steps;
}
