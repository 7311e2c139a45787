/**
 * The plan's steps for one HTTP API: the API, its authorizers, integrations (one per function
 * and payload format), routes and stage, then what the API has that the template no longer
 * declares.
 */
import { stackTags } from "./ownership.js";
import type { CurrentState, Step } from "./plan.js";
import type { ApiSpec, StackSpec } from "./spec.js";

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

export function apiSteps(stack: StackSpec, api: ApiSpec, state: CurrentState): Step[] {
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
      body: { ...apiBody, tags: stackTags(stack.stackName, api.logicalId) },
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
