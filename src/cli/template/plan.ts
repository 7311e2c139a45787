/**
 * The plan: what applying a stack specification to the platform's current state would change,
 * step by step in dependency order (the queues; a function, its published alias, its URL; the
 * functions' event source mappings; the stack's schedule group and schedules; then each HTTP
 * API, its authorizers, integrations, routes and stage), computed without changing anything,
 * and printed as a diff.
 */
import { apiSteps, canonical } from "./api-steps.js";
import { LOGICAL_ID_TAG, staleSteps } from "./ownership.js";
import { mappingSteps, queueSteps } from "./queue-steps.js";
import { type CurrentSchedule, type CurrentScheduleGroup, scheduleSteps } from "./schedule-steps.js";
import type {
  ApiSpec,
  FunctionSpec,
  QueueEventSpec,
  QueueSpec,
  ScheduleSpec,
  StackSpec,
  UrlSpec,
} from "./spec.js";

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
  readonly tags: Readonly<Record<string, string>>;
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

/** A queue as SQS answers it: its URL, its attributes (all of them, defaults included), its tags. */
export interface CurrentQueue {
  readonly url: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

/** An event source mapping as Lambda's API answers it (the fields the plan compares). */
export interface CurrentMapping {
  readonly UUID: string;
  readonly EventSourceArn: string;
  /** Qualified when the mapping invokes a version or alias. */
  readonly FunctionArn: string;
  readonly BatchSize: number;
  readonly MaximumBatchingWindowInSeconds: number;
  readonly State: string;
  readonly FunctionResponseTypes?: string[];
  readonly FilterCriteria?: { Filters?: Array<{ Pattern?: string }> };
  readonly ScalingConfig?: { MaximumConcurrency?: number };
}

export interface CurrentState {
  readonly region: string;
  readonly accountId: string | undefined;
  /** The stack's declared functions that exist, by name. */
  readonly functions: ReadonlyMap<string, CurrentFunction>;
  /** Every function on the platform, by name, with its tags: which stack, if any, owns it. */
  readonly functionTags: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The HTTP APIs tagged with the stack's name, by logical id (their `nimbus:logical-id` tag). */
  readonly apis: ReadonlyMap<string, CurrentApi>;
  /** Every queue on the platform, by name, with its tags: which stack, if any, owns it. None: no queues. */
  readonly queueTags?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The queues the stack declares or owns that exist, by name. */
  readonly queues?: ReadonlyMap<string, CurrentQueue>;
  /** The event source mappings of the functions the stack owns, by function name. */
  readonly mappings?: ReadonlyMap<string, readonly CurrentMapping[]>;
  /** The schedule group named after the stack, if it exists (whoever owns it). */
  readonly scheduleGroup?: CurrentScheduleGroup | undefined;
  /** The schedules in that group when the stack owns it, by name. */
  readonly schedules?: ReadonlyMap<string, CurrentSchedule>;
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
      readonly kind: "queue";
      readonly queue: QueueSpec;
      /** The queue's URL when it exists. */
      readonly url?: string;
      /** What to set: every attribute on create, the changed ones on update. */
      readonly attributes: Readonly<Record<string, string>>;
      /** Its tags name another logical id: it is tagged again. */
      readonly retag: boolean;
    }
  | {
      readonly kind: "mapping";
      readonly fn: FunctionSpec;
      readonly event: QueueEventSpec;
      /** Its UUID when it exists. */
      readonly uuid?: string;
      /** CreateEventSourceMapping's or UpdateEventSourceMapping's body. */
      readonly body: Record<string, unknown>;
    }
  | {
      /** The stack's schedule group: created before its first schedule, deleted after its last. */
      readonly kind: "schedule-group";
      readonly name: string;
    }
  | {
      readonly kind: "schedule";
      readonly schedule: ScheduleSpec;
      readonly group: string;
      /** CreateSchedule's or UpdateSchedule's body: the whole schedule. */
      readonly body: Record<string, unknown>;
    }
  | {
      /** A schedule in the stack's group that its template no longer declares. */
      readonly kind: "stale-schedule";
      readonly name: string;
      readonly group: string;
    }
  | {
      /** A queue the stack made that its template no longer declares. */
      readonly kind: "stale-queue";
      readonly name: string;
      readonly logicalId: string;
      readonly url: string;
    }
  | {
      /** An event source mapping of the stack's function that its template no longer declares. */
      readonly kind: "stale-mapping";
      readonly functionName: string;
      readonly queueArn: string;
      readonly uuid: string;
    }
  | {
      /** A function the stack made that its template no longer declares. */
      readonly kind: "stale-function";
      readonly name: string;
      readonly logicalId: string;
    }
  | {
      /** An HTTP API the stack made that its template no longer declares. */
      readonly kind: "stale-api";
      readonly name: string;
      readonly logicalId: string;
      readonly apiId: string;
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
    case "stale-function":
      what = `function ${s.name}`;
      break;
    case "queue":
      what = `queue ${s.queue.name}`;
      break;
    case "stale-queue":
      what = `queue ${s.name}`;
      break;
    case "mapping":
      what = `event source mapping ${queueOf(s.event.queueArn)} → ${s.fn.name}${s.fn.alias ? `:${s.fn.alias}` : ""}`;
      break;
    case "stale-mapping":
      what = `event source mapping ${queueOf(s.queueArn)} → ${s.functionName}`;
      break;
    case "stale-api":
      what = `HTTP API ${s.name}`;
      break;
    case "schedule-group":
      what = `schedule group ${s.name}`;
      break;
    case "schedule":
      what = `schedule ${s.group}/${s.schedule.name} → ${targetOf(s.body)}`;
      break;
    case "stale-schedule":
      what = `schedule ${s.group}/${s.name}`;
      break;
    default:
      what = `${s.kind} ${s.label} of HTTP API ${s.api.name}`;
  }
  return `${mark} ${verb} ${what}${s.changes.length > 0 ? `: ${s.changes.join(", ")}` : ""}`;
}

/** A schedule's target function (and qualifier), from its body. */
function targetOf(body: Record<string, unknown>): string {
  return (body.Target as { Arn: string }).Arn.split(":").slice(6).join(":");
}

/** A queue's name, from its ARN. */
function queueOf(arn: string): string {
  return arn.split(":").slice(5).join(":");
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
  const steps: Step[] = [...queueSteps(stack, current)];
  for (const fn of stack.functions)
    steps.push(...functionSteps(fn, code.get(fn.logicalId)!, current.functions.get(fn.name)));
  steps.push(...mappingSteps(stack, current));
  steps.push(...scheduleSteps(stack, current));
  for (const api of stack.apis) steps.push(...apiSteps(stack, api, current));
  // Last: nothing that stays may still use what goes.
  steps.push(...staleSteps(stack, current));
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
    // A resource renamed in the template, its FunctionName kept: the same function, retagged.
    const logicalId = cur.tags[LOGICAL_ID_TAG];
    const changes = [
      ...diff.config,
      ...(diff.code ? [`code ${short(cur.config.CodeSha256)} → ${short(built.sha256)}`] : []),
      ...(logicalId !== fn.logicalId ? [`${LOGICAL_ID_TAG} ${logicalId ?? "(none)"} → ${fn.logicalId}`] : []),
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

function short(sha: string): string {
  return sha.slice(0, 8);
}
