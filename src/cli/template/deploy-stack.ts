/**
 * `nimbus deploy --template`: reads the template, packages each function's CodeUri, reads the
 * platform's current state, prints the plan, and applies it (unless it is a dry run).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { NimbusClient } from "../client.js";
import { packageFunction } from "../commands/deploy.js";
import type { Output } from "../context.js";
import { applyPlan, describeResult } from "./apply.js";
import { conflicts } from "./ownership.js";
import { parseTemplate, TemplateProblems } from "./parse.js";
import { type BuiltCode, changed, computePlan, describePlan } from "./plan.js";
import type { StackSpec } from "./spec.js";
import { readPlatform, readState } from "./state.js";

export interface StackOptions {
  readonly template: string;
  readonly stackName?: string | undefined;
  readonly parameterOverrides?: Readonly<Record<string, string>>;
  readonly dryRun?: boolean;
  readonly region: string;
}

/** The stack's name: --stack-name, else the name of the template's directory. */
export function stackNameOf(o: StackOptions): string {
  return o.stackName ?? basename(dirname(resolve(o.template)));
}

/**
 * Plans and applies once; the exit code: 0 applied or nothing to do, 1 failed or refused (a
 * declared function exists and is not the stack's), 2 the template is outside the subset.
 */
export async function deployStack(
  client: NimbusClient,
  o: StackOptions,
  out: { stdout: Output; stderr: Output },
): Promise<{ code: number; stack?: StackSpec }> {
  const stackName = stackNameOf(o);
  const place = await readPlatform(client, o.region);
  let stack: StackSpec;
  try {
    stack = parseTemplate({
      file: o.template,
      text: await readFile(o.template, "utf8"),
      stackName,
      region: place.region,
      accountId: place.accountId,
      endpoint: place.endpoint,
      parameterOverrides: o.parameterOverrides ?? {},
    });
  } catch (err) {
    if (!(err instanceof TemplateProblems)) throw err;
    out.stderr.write(`error: ${err.message}\nnothing was changed\n`);
    return { code: 2 };
  }
  for (const w of stack.warnings) out.stderr.write(`warning: ${w}\n`);
  const code = new Map<string, BuiltCode>();
  for (const fn of stack.functions) {
    let built: Awaited<ReturnType<typeof packageFunction>>;
    try {
      built = await packageFunction(fn.codeDir, fn.runtime, fn.handler);
    } catch (err) {
      throw new Error(`cannot package ${fn.logicalId} (CodeUri ${fn.codeDir}): ${(err as Error).message}`);
    }
    code.set(fn.logicalId, {
      zip: built.zip,
      handler: built.handler,
      sha256: createHash("sha256").update(built.zip).digest("base64"),
    });
  }
  const state = await readState(client, stack, place);
  const refused = conflicts(stack, state);
  if (refused.length > 0) {
    out.stdout.write(`stack ${stackName} (${o.template})\n`);
    for (const r of refused) out.stderr.write(`error: ${r}\n`);
    out.stderr.write("nothing was changed\n");
    return { code: 1, stack };
  }
  const plan = computePlan(stack, code, state);
  out.stdout.write(`stack ${stackName} (${o.template})\n${describePlan(plan)}`);
  const changes = changed(plan);
  if (changes.length === 0) {
    out.stdout.write("no changes\n");
    return { code: 0, stack };
  }
  if (o.dryRun) {
    out.stdout.write(`dry run: ${changes.length} change(s) not applied\n`);
    return { code: 0, stack };
  }
  const result = await applyPlan(client, plan, code, state);
  (result.failed ? out.stderr : out.stdout).write(describeResult(result));
  return { code: result.failed ? 1 : 0, stack };
}
