/**
 * Applies a plan through the platform's APIs, step by step in the plan's order, and stops at
 * the first failure: the result says what was applied, what failed, and what was not tried.
 */
import type { NimbusClient } from "../client.js";
import { functionPath } from "../commands/functions.js";
import { urlPath } from "../commands/urls.js";
import { LOGICAL_ID_TAG, STACK_TAG, stackTags } from "./ownership.js";
import { type BuiltCode, type CurrentState, describeStep, type Plan, type Step } from "./plan.js";
import { sqs } from "./queue-state.js";
import { SCHEDULER } from "./schedule-state.js";
import { APIGATEWAY } from "./state.js";

export interface ApplyResult {
  readonly applied: readonly Step[];
  readonly failed?: { readonly step: Step; readonly error: string };
  readonly notApplied: readonly Step[];
}

/** Runs every step that changes something; ids learnt on the way (ARNs, created ids) feed later steps. */
export async function applyPlan(
  client: NimbusClient,
  plan: Plan,
  code: ReadonlyMap<string, BuiltCode>,
  state: CurrentState,
): Promise<ApplyResult> {
  const refs = new Map<string, string>();
  for (const s of plan.steps)
    if (s.kind === "function") {
      const have = state.functions.get(s.fn.name);
      if (have) refs.set(`arn:${s.fn.logicalId}`, qualified(have.config.FunctionArn, s.fn.alias));
    }
  const applied: Step[] = [];
  const steps = plan.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    try {
      await run(client, plan.stackName, step, code, refs);
    } catch (err) {
      return {
        applied,
        failed: { step, error: err instanceof Error ? err.message : String(err) },
        notApplied: steps.slice(i + 1).filter((s) => s.action !== "unchanged"),
      };
    }
    if (step.action !== "unchanged") applied.push(step);
  }
  return { applied, notApplied: [] };
}

/** The result as the command prints it after the plan. */
export function describeResult(r: ApplyResult): string {
  if (!r.failed) return `applied ${r.applied.length} change(s)\n`;
  const list = (steps: readonly Step[]) =>
    steps.length === 0 ? "  (none)\n" : steps.map((s) => `  ${describeStep(s)}\n`).join("");
  return (
    `failed: ${describeStep(r.failed.step)}\n  ${r.failed.error}\n` +
    `applied before the failure:\n${list(r.applied)}` +
    `not applied:\n${list(r.notApplied)}`
  );
}

function qualified(arn: string, alias: string | undefined): string {
  const unqualified = arn.split(":").slice(0, 7).join(":");
  return alias ? `${unqualified}:${alias}` : unqualified;
}

async function run(
  client: NimbusClient,
  stackName: string,
  s: Step,
  code: ReadonlyMap<string, BuiltCode>,
  refs: Map<string, string>,
): Promise<void> {
  const json = (body: unknown) => ({ body: JSON.stringify(body) });
  switch (s.kind) {
    case "function": {
      const built = code.get(s.fn.logicalId)!;
      const path = functionPath(s.fn.name);
      if (s.action === "create") {
        const fn = await client.json<{ FunctionArn: string }>(
          "POST",
          "/2015-03-31/functions",
          json({
            FunctionName: s.fn.name,
            ...s.config,
            Code: { ZipFile: built.zip.toString("base64") },
            // How a later deploy knows the function is the stack's, to update or delete.
            Tags: stackTags(stackName, s.fn.logicalId),
          }),
        );
        refs.set(`arn:${s.fn.logicalId}`, qualified(fn.FunctionArn, s.fn.alias));
      } else if (s.action === "update") {
        if (s.code) await client.call("PUT", `${path}/code`, json({ ZipFile: built.zip.toString("base64") }));
        if (s.changes.some((c) => !c.startsWith("code ") && !c.startsWith(`${LOGICAL_ID_TAG} `)))
          await client.call("PUT", `${path}/configuration`, json(s.config));
        if (s.changes.some((c) => c.startsWith(`${LOGICAL_ID_TAG} `))) {
          const arn = refs.get(`arn:${s.fn.logicalId}`)!.split(":").slice(0, 7).join(":");
          await client.call(
            "POST",
            `/2017-03-31/tags/${encodeURIComponent(arn)}`,
            json({ Tags: stackTags(stackName, s.fn.logicalId) }),
          );
        }
      }
      return;
    }
    case "stale-api":
      await client.call("DELETE", `/v2/apis/${encodeURIComponent(s.apiId)}`, APIGATEWAY);
      return;
    case "stale-function":
      await client.call("DELETE", functionPath(s.name));
      return;
    case "queue":
      if (s.action === "create")
        await sqs(client, "CreateQueue", {
          QueueName: s.queue.name,
          Attributes: s.attributes,
          // How a later deploy knows the queue is the stack's, to update or delete.
          tags: stackTags(stackName, s.queue.logicalId),
        });
      else if (s.action === "update") {
        if (Object.keys(s.attributes).length > 0)
          await sqs(client, "SetQueueAttributes", { QueueUrl: s.url, Attributes: s.attributes });
        if (s.retag)
          await sqs(client, "TagQueue", { QueueUrl: s.url, Tags: stackTags(stackName, s.queue.logicalId) });
      }
      return;
    case "stale-queue":
      await sqs(client, "DeleteQueue", { QueueUrl: s.url });
      return;
    case "mapping": {
      if (s.action === "unchanged") return;
      const base = "/2015-03-31/event-source-mappings";
      if (s.action === "create") await client.call("POST", base, json(s.body));
      else await client.call("PUT", `${base}/${encodeURIComponent(s.uuid!)}`, json(s.body));
      return;
    }
    case "schedule-group": {
      const path = `/schedule-groups/${encodeURIComponent(s.name)}`;
      if (s.action === "create")
        // How a later deploy knows the group, and so its schedules, is the stack's.
        await client.call("POST", path, {
          ...SCHEDULER,
          ...json({ Tags: [{ Key: STACK_TAG, Value: stackName }] }),
        });
      else if (s.action === "delete") await client.call("DELETE", path, SCHEDULER);
      return;
    }
    case "schedule": {
      if (s.action === "unchanged") return;
      const path = `/schedules/${encodeURIComponent(s.schedule.name)}`;
      // UpdateSchedule replaces the whole schedule: the body has every setting.
      await client.call(s.action === "create" ? "POST" : "PUT", path, { ...SCHEDULER, ...json(s.body) });
      return;
    }
    case "stale-schedule":
      await client.call("DELETE", `/schedules/${encodeURIComponent(s.name)}`, {
        ...SCHEDULER,
        query: { groupName: s.group },
      });
      return;
    case "stale-mapping":
      await client.call("DELETE", `/2015-03-31/event-source-mappings/${encodeURIComponent(s.uuid)}`);
      return;
    case "alias": {
      if (s.action === "unchanged") return;
      const v = await client.json<{ Version: string }>("POST", functionPath(s.fn.name, "versions"), json({}));
      if (s.action === "create")
        await client.call(
          "POST",
          functionPath(s.fn.name, "aliases"),
          json({ Name: s.alias, FunctionVersion: v.Version }),
        );
      else
        await client.call(
          "PUT",
          functionPath(s.fn.name, "aliases", s.alias),
          json({ FunctionVersion: v.Version }),
        );
      return;
    }
    case "url": {
      if (s.action === "unchanged") return;
      await client.call(s.action === "create" ? "POST" : "PUT", urlPath(s.fn.name, "url"), {
        ...json(s.body),
        ...(s.qualifier ? { query: { Qualifier: s.qualifier } } : {}),
      });
      return;
    }
    case "api": {
      const ref = `api:${s.api.logicalId}`;
      if (s.action === "create") {
        const api = await client.json<{ apiId: string }>("POST", "/v2/apis", {
          ...APIGATEWAY,
          ...json(s.body),
        });
        refs.set(ref, api.apiId);
        return;
      }
      refs.set(ref, s.apiId!);
      if (s.action === "update") {
        const base = `/v2/apis/${encodeURIComponent(s.apiId!)}`;
        const { protocolType: _, ...patch } = s.body;
        await client.call("PATCH", base, { ...APIGATEWAY, ...json(patch) });
        // PATCH keeps what it is not given: a CORS configuration the template dropped is deleted.
        if (patch.corsConfiguration === undefined && s.changes.includes("corsConfiguration"))
          await client.call("DELETE", `${base}/cors`, APIGATEWAY);
      }
      return;
    }
    default: {
      const apiId = refs.get(`api:${s.api.logicalId}`);
      if (apiId === undefined)
        throw new Error(`the HTTP API ${s.api.name} has no id: its own step did not run`);
      const collection = `/v2/apis/${encodeURIComponent(apiId)}/${s.kind}s`;
      const body = fill(s.body, refs);
      if (s.action === "create") {
        const made = await client.json<Record<string, string>>("POST", collection, {
          ...APIGATEWAY,
          ...json(body),
        });
        const idField = {
          authorizer: "authorizerId",
          integration: "integrationId",
          route: "routeId",
          stage: "stageName",
        }[s.kind];
        refs.set(s.ref, made[idField]!);
        return;
      }
      refs.set(s.ref, s.id!);
      const item = `${collection}/${encodeURIComponent(s.id!)}`;
      if (s.action === "update") {
        const { stageName: _, ...patch } = body;
        await client.call("PATCH", item, { ...APIGATEWAY, ...json(s.kind === "stage" ? patch : body) });
      } else if (s.action === "delete") await client.call("DELETE", item, APIGATEWAY);
    }
  }
}

/** The body with each `{ ref, prefix? }` replaced by the id an earlier step learnt. */
function fill(body: Record<string, unknown>, refs: ReadonlyMap<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "object" && v !== null && "ref" in v) {
      const { ref, prefix } = v as { ref: string; prefix?: string };
      const id = refs.get(ref);
      if (id === undefined) throw new Error(`${k} needs ${ref}, which no earlier step gave`);
      out[k] = `${prefix ?? ""}${id}`;
    } else out[k] = v;
  }
  return out;
}
