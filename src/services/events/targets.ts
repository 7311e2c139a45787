/**
 * A rule's targets as PutTargets sets them: a function (by ARN, qualified or not), a standard
 * queue, another bus of this account, or an API destination (with `HttpParameters`); at most one of `Input`, `InputPath`,
 * `InputTransformer`; a retry policy and a dead-letter queue. A target that is wrong fails
 * alone (in `FailedEntries`, saying why); the request fails only when malformed or past the
 * five targets a rule may have.
 */
import { HEADER_NAME, headerValueProblem } from "./connection-auth.js";
import { EventsError, validation } from "./errors.js";
import type { RuleRecord, TargetHttpParameters, TargetRecord } from "./model.js";
import type { EventsAccount } from "./names.js";
import { compileTarget } from "./rules.js";

export const MAX_TARGETS_PER_RULE = 5;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;

type Failed = { TargetId: string; ErrorCode: string; ErrorMessage: string };

export async function checkTargets(
  given: unknown,
  rule: RuleRecord,
  existing: readonly TargetRecord[],
  account: EventsAccount,
  /** Whether the target's ARN names something there now; may throw saying why the target cannot work. */
  exists: (t: TargetRecord) => Promise<boolean>,
): Promise<{ ok: TargetRecord[]; failed: Failed[] }> {
  if (!Array.isArray(given) || given.length === 0 || given.length > 10)
    throw validation("Targets must be a list of 1 to 10 targets.");
  const ids = new Set([...existing.map((t) => t.id)]);
  for (const t of given as Array<{ Id?: unknown }>) if (typeof t?.Id === "string") ids.add(t.Id);
  if (ids.size > MAX_TARGETS_PER_RULE)
    throw new EventsError(
      "LimitExceededException",
      `The requested resource exceeds the maximum number allowed: a rule has at most ${MAX_TARGETS_PER_RULE} targets (this would make ${ids.size}).`,
    );
  const ok: TargetRecord[] = [];
  const failed: Failed[] = [];
  for (const raw of given as Array<Record<string, unknown>>) {
    const id = String(raw?.Id ?? "");
    try {
      const t = readTarget(raw, rule, account);
      compileTarget(t);
      if (!(await exists(t))) throw new Error(`the target ${t.arn} does not exist`);
      ok.push(t);
    } catch (err) {
      failed.push({ TargetId: id, ErrorCode: "ValidationException", ErrorMessage: (err as Error).message });
    }
  }
  return { ok, failed };
}

function readTarget(raw: Record<string, unknown>, rule: RuleRecord, account: EventsAccount): TargetRecord {
  const id = raw.Id;
  if (typeof id !== "string" || !TARGET_ID.test(id))
    throw new Error(`Id ${JSON.stringify(id)} must be 1 to 64 of letters, digits, '.', '-' and '_'`);
  const arn = raw.Arn;
  if (typeof arn !== "string") throw new Error("Arn is required");
  const own = `:${account.region}:${account.accountId}:`;
  const fn = arn.startsWith(`arn:aws:lambda${own}function:`);
  const queue = arn.startsWith(`arn:aws:sqs${own}`);
  const bus = arn.startsWith(`arn:aws:events${own}event-bus/`);
  const api = arn.startsWith(`arn:aws:events${own}api-destination/`);
  if (!fn && !queue && !bus && !api)
    throw new Error(
      `the target ${arn} is not one Nimbus serves: a function (arn:aws:lambda${own}function:<name>), a queue (arn:aws:sqs${own}<name>), a bus (arn:aws:events${own}event-bus/<name>) or an API destination (arn:aws:events${own}api-destination/<name>/<uuid>)`,
    );
  const http = raw.HttpParameters;
  if (http !== undefined && http !== null && !api)
    throw new Error("HttpParameters apply to API destination targets only");
  if (queue && arn.endsWith(".fifo"))
    throw new Error(
      "a FIFO queue as a target needs a message group id per event, which Nimbus does not take: use a standard queue",
    );
  const chosen = ["Input", "InputPath", "InputTransformer"].filter(
    (k) => raw[k] !== undefined && raw[k] !== null,
  );
  if (chosen.length > 1)
    throw new Error(
      `a target takes at most one of Input, InputPath and InputTransformer, got ${chosen.join(" and ")}`,
    );
  if (raw.Input !== undefined && raw.Input !== null) {
    if (typeof raw.Input !== "string") throw new Error("Input must be JSON text");
    try {
      JSON.parse(raw.Input);
    } catch {
      throw new Error("Input must be valid JSON text");
    }
  }
  if (raw.InputPath !== undefined && raw.InputPath !== null && typeof raw.InputPath !== "string")
    throw new Error("InputPath must be a JSON path such as $.detail");
  const tr = raw.InputTransformer as { InputPathsMap?: unknown; InputTemplate?: unknown } | undefined | null;
  if (
    tr &&
    (typeof tr.InputTemplate !== "string" ||
      (tr.InputPathsMap !== undefined && (typeof tr.InputPathsMap !== "object" || tr.InputPathsMap === null)))
  )
    throw new Error(
      "InputTransformer takes an InputTemplate (text) and an InputPathsMap (names to JSON paths)",
    );
  const retry = (raw.RetryPolicy ?? {}) as {
    MaximumRetryAttempts?: unknown;
    MaximumEventAgeInSeconds?: unknown;
  };
  const attempts = retry.MaximumRetryAttempts;
  if (
    attempts !== undefined &&
    (!Number.isInteger(attempts) || (attempts as number) < 0 || (attempts as number) > 185)
  )
    throw new Error("RetryPolicy.MaximumRetryAttempts must be an integer from 0 to 185");
  const age = retry.MaximumEventAgeInSeconds;
  if (age !== undefined && (!Number.isInteger(age) || (age as number) < 60 || (age as number) > 86_400))
    throw new Error("RetryPolicy.MaximumEventAgeInSeconds must be an integer from 60 to 86400");
  const dlq = (raw.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  if (dlq !== undefined && (typeof dlq !== "string" || !dlq.startsWith(`arn:aws:sqs${own}`)))
    throw new Error(`DeadLetterConfig.Arn must be a queue of this account, arn:aws:sqs${own}<name>`);
  return {
    busName: rule.busName,
    ruleName: rule.name,
    id,
    arn,
    input: raw.Input as string | undefined,
    inputPath: (raw.InputPath as string | undefined) ?? undefined,
    inputTransformer: tr
      ? {
          inputPathsMap: (tr.InputPathsMap ?? {}) as Record<string, string>,
          inputTemplate: tr.InputTemplate as string,
        }
      : undefined,
    maximumRetryAttempts: attempts as number | undefined,
    maximumEventAgeInSeconds: age as number | undefined,
    deadLetterArn: dlq as string | undefined,
    ...(api ? { httpParameters: httpParametersOf(http) } : {}),
  };
}

function httpParametersOf(v: unknown): TargetHttpParameters {
  if (v === undefined || v === null) return { pathValues: [], headers: {}, query: {} };
  if (typeof v !== "object") throw new Error("HttpParameters must be an object");
  const p = v as {
    PathParameterValues?: unknown;
    HeaderParameters?: unknown;
    QueryStringParameters?: unknown;
  };
  const values = p.PathParameterValues ?? [];
  if (!Array.isArray(values) || !values.every((x) => typeof x === "string" && x.length <= 512))
    throw new Error(
      "HttpParameters.PathParameterValues must be a list of strings (one per * of the endpoint)",
    );
  return {
    pathValues: values as string[],
    headers: headersOf(stringMap(p.HeaderParameters, "HttpParameters.HeaderParameters")),
    query: stringMap(p.QueryStringParameters, "HttpParameters.QueryStringParameters"),
  };
}

/** Headers a request can carry: names that are tokens, values without line breaks or NUL. */
function headersOf(h: Record<string, string>): Record<string, string> {
  for (const [name, value] of Object.entries(h)) {
    if (!HEADER_NAME.test(name))
      throw new Error(
        `HttpParameters.HeaderParameters: ${JSON.stringify(name)} is not a header name (letters, digits and !#$%&'*+-.^_|~)`,
      );
    const problem = headerValueProblem(value);
    if (problem) throw new Error(`HttpParameters.HeaderParameters: the value of ${name} ${problem}`);
  }
  return h;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "string"))
    throw new Error(`${field} must map names to strings`);
  return { ...(v as Record<string, string>) };
}

export function renderTarget(t: TargetRecord): Record<string, unknown> {
  return {
    Id: t.id,
    Arn: t.arn,
    ...(t.input !== undefined ? { Input: t.input } : {}),
    ...(t.inputPath !== undefined ? { InputPath: t.inputPath } : {}),
    ...(t.inputTransformer
      ? {
          InputTransformer: {
            InputPathsMap: t.inputTransformer.inputPathsMap,
            InputTemplate: t.inputTransformer.inputTemplate,
          },
        }
      : {}),
    ...(t.maximumRetryAttempts !== undefined || t.maximumEventAgeInSeconds !== undefined
      ? {
          RetryPolicy: {
            ...(t.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: t.maximumRetryAttempts } : {}),
            ...(t.maximumEventAgeInSeconds !== undefined
              ? { MaximumEventAgeInSeconds: t.maximumEventAgeInSeconds }
              : {}),
          },
        }
      : {}),
    ...(t.deadLetterArn ? { DeadLetterConfig: { Arn: t.deadLetterArn } } : {}),
    ...(t.httpParameters
      ? {
          HttpParameters: {
            PathParameterValues: t.httpParameters.pathValues,
            HeaderParameters: t.httpParameters.headers,
            QueryStringParameters: t.httpParameters.query,
          },
        }
      : {}),
  };
}
