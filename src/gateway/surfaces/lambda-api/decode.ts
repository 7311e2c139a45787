/**
 * Lambda's requests, translated into the control plane's own inputs (the registry's specs, the
 * async settings' `EventInvokeSpec`). Here Lambda's field names, its JSON shapes and its ways
 * of naming a function (name, `name:qualifier`, partial or full ARN) end: a field of the wrong
 * type is refused with Lambda's error, as Lambda does, and the control plane judges the values. Problems are reported under the registry's field names
 * (`memoryMb`), or Lambda's where the registry has no such field; `errors.ts` renders them.
 */

import {
  type DestinationRef,
  EVENT_CONFIG_EXPECTED,
  type EventInvokeSpec,
} from "../../../control/async/event-configs.js";
import { isQueueArn } from "../../../control/async/queue-targets.js";
import type {
  AliasPatch,
  AliasSpec,
  CodeSource,
  CodeUpdate,
  FunctionPatch,
  FunctionSpec,
  PublishSpec,
} from "../../../control/registry/spec.js";
import * as v from "../../../control/registry/validate.js";
import { parseFunctionArn } from "../../../protocol/function.js";
import { NimbusError } from "../../../shared/errors.js";
import { type Body, Fields } from "./fields.js";

export interface FunctionRef {
  readonly name: string;
  readonly qualifier: string | undefined;
}

const PARTIAL_ARN = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const NAME_OR_ARN = "be a function name or a Lambda function ARN";

/**
 * A FunctionName as Lambda accepts it (name, `name:qualifier`, partial or full ARN) and the
 * Qualifier query parameter, which must agree with a qualifier the name carries.
 */
export function functionRef(raw: string, queryQualifier?: string): FunctionRef {
  let name = raw;
  let qualifier: string | undefined;
  const partial = PARTIAL_ARN.exec(raw);
  if (raw.startsWith("arn:")) {
    const ref = parseFunctionArn(raw);
    if (!ref) throw v.invalid("functionName", raw, NAME_OR_ARN, "pattern");
    ({ name, qualifier } = ref);
  } else if (partial) {
    name = partial[2]!;
    qualifier = partial[3];
  } else if (raw.includes(":")) {
    const parts = raw.split(":");
    if (parts.length !== 2) throw v.invalid("functionName", raw, NAME_OR_ARN, "pattern");
    name = parts[0]!;
    qualifier = parts[1];
  }
  v.report(v.functionName(name));
  if (queryQualifier !== undefined && queryQualifier !== "") {
    if (qualifier !== undefined && qualifier !== queryQualifier) {
      throw new NimbusError(
        "InvalidParameter",
        `The derived qualifier from the function name does not match the specified qualifier: ${qualifier} and ${queryQualifier}.`,
      );
    }
    qualifier = queryQualifier;
  }
  v.report(qualifier === undefined ? undefined : v.qualifier(qualifier));
  return { name, qualifier };
}

/** The function a FunctionName names, for operations on the function as a whole. */
export function functionName(raw: string): string {
  return functionRef(raw).name;
}

/** CreateFunction's body. */
export function createFunction(body: Body): FunctionSpec {
  const f = new Fields(body);
  const functionName = f.required("FunctionName", "functionName", "string", v.EXPECTED.functionName);
  if (body.PackageType !== undefined && body.PackageType !== "Zip")
    f.problems.push(
      v.problem("packageType", body.PackageType, "oneOf", "be Zip: container images are not supported"),
    );
  const runtime = f.required("Runtime", "runtime", "string", v.EXPECTED.runtime);
  const spec = {
    functionName,
    runtime,
    handler: f.optional("Handler", "handler", "string", v.EXPECTED.handler),
    memoryMb: f.optional("MemorySize", "memoryMb", "number", v.EXPECTED.memoryMb),
    timeoutS: f.optional("Timeout", "timeoutS", "number", v.EXPECTED.timeoutS),
    environment: f.environment(),
    description: f.optional("Description", "description", "string", v.EXPECTED.description),
    role: role(body.Role),
    architecture: f.architecture(),
    deadLetterTarget: deadLetterTarget(f) ?? undefined,
    snapStart: snapStart(f) ?? undefined,
    ephemeralStorageMb: f.ephemeralStorage(),
    publish: body.Publish === true,
  };
  const tags = f.tags();
  f.done();
  const code = zipFile(typeof body.Code === "object" && body.Code !== null ? (body.Code as Body) : {});
  return { ...spec, functionName: functionName!, runtime: runtime!, code, ...(tags ? { tags } : {}) };
}

/** UpdateFunctionConfiguration's body. */
export function updateConfiguration(body: Body): FunctionPatch {
  const f = new Fields(body);
  const patch: FunctionPatch = {
    runtime: f.optional("Runtime", "runtime", "string", v.EXPECTED.runtime),
    handler: f.optional("Handler", "handler", "string", v.EXPECTED.handler),
    memoryMb: f.optional("MemorySize", "memoryMb", "number", v.EXPECTED.memoryMb),
    timeoutS: f.optional("Timeout", "timeoutS", "number", v.EXPECTED.timeoutS),
    environment: f.environment(),
    description: f.optional("Description", "description", "string", v.EXPECTED.description),
    role: role(body.Role),
    deadLetterTarget: deadLetterTarget(f),
    snapStart: snapStart(f),
    ephemeralStorageMb: f.ephemeralStorage(),
    expectedRevision: f.revision(),
  };
  f.done();
  return patch;
}

/** UpdateFunctionCode's body. */
export function updateCode(body: Body): CodeUpdate {
  const f = new Fields(body);
  const update = {
    architecture: f.architecture(),
    publish: body.Publish === true,
    dryRun: body.DryRun === true,
    expectedRevision: f.revision(),
  };
  f.done();
  return { ...update, code: zipFile(body) };
}

/** PublishVersion's body. */
export function publishVersion(body: Body): PublishSpec {
  const f = new Fields(body);
  const spec: PublishSpec = {
    description: f.optional("Description", "description", "string", v.EXPECTED.description),
    codeSha256: f.optional("CodeSha256", "codeSha256", "string", "be a string"),
    expectedRevision: f.revision(),
  };
  f.done();
  return spec;
}

/** CreateAlias's body. */
export function createAlias(body: Body): AliasSpec {
  const f = new Fields(body);
  const name = f.required("Name", "name", "string", v.EXPECTED.aliasName);
  const functionVersion = f.required(
    "FunctionVersion",
    "functionVersion",
    "string",
    v.EXPECTED.functionVersion,
  );
  const rest = {
    description: f.optional("Description", "description", "string", v.EXPECTED.description),
    additionalVersionWeights: f.routing() ?? {},
  };
  f.done();
  return { name: name!, functionVersion: functionVersion!, ...rest };
}

/** UpdateAlias's body. */
export function updateAlias(body: Body): AliasPatch {
  const f = new Fields(body);
  const patch: AliasPatch = {
    functionVersion: f.optional("FunctionVersion", "functionVersion", "string", v.EXPECTED.functionVersion),
    description: f.optional("Description", "description", "string", v.EXPECTED.description),
    additionalVersionWeights: f.routing(),
    expectedRevision: f.revision(),
  };
  f.done();
  return patch;
}

/**
 * The function a tagging operation names: Lambda takes only a function's unqualified ARN, of
 * this platform's region and account (any other names no function here).
 */
export function taggedFunction(raw: string, platform: { region: string; accountId: string }): string {
  const ref = raw.startsWith("arn:") ? parseFunctionArn(raw) : undefined;
  if (!ref)
    throw v.invalid(
      "resource",
      raw,
      "be a function's ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME",
      "pattern",
    );
  v.report(v.functionName(ref.name));
  if (ref.qualifier !== undefined) {
    throw new NimbusError(
      "InvalidParameter",
      `Tags on function aliases and versions are not supported. Please specify a function ARN: ${raw} names ${ref.name}:${ref.qualifier}`,
    );
  }
  const [, , , region, account] = raw.split(":");
  if (region !== platform.region || account !== platform.accountId)
    throw new NimbusError("NotFound", `Function not found: ${raw}`);
  return ref.name;
}

/** TagResource's body: `{ Tags }`, a map of strings. */
export function tagResource(body: Body): Record<string, string> {
  const f = new Fields(body);
  if (body.Tags === undefined)
    f.problems.push(v.problem("tags", undefined, "required", "be a map of strings to strings"));
  const tags = f.tags();
  f.done();
  return tags ?? {};
}

/** UntagResource's `tagKeys` query parameters: at least one. */
export function untagKeys(keys: readonly string[]): string[] {
  if (keys.length === 0) throw v.invalid("tagKeys", undefined, "name at least one tag key", "required");
  return [...keys];
}

/** PutFunctionConcurrency's body: the number of instances to reserve. */
export function reservedConcurrency(body: Body): number {
  const f = new Fields(body);
  const n = f.required(
    "ReservedConcurrentExecutions",
    "reservedConcurrency",
    "number",
    v.EXPECTED.reservedConcurrency,
  );
  f.done();
  return n!;
}

/** PutProvisionedConcurrencyConfig's body: the number of instances to keep initialised. */
export function provisionedConcurrency(body: Body): number {
  const f = new Fields(body);
  const n = f.required(
    "ProvisionedConcurrentExecutions",
    "provisionedConcurrency",
    "number",
    "be an integer",
  );
  f.done();
  return n!;
}

/** Put- and UpdateFunctionEventInvokeConfig's body; destinations are function ARNs. */
export function eventInvokeConfig(body: Body): EventInvokeSpec {
  const f = new Fields(body);
  const spec: EventInvokeSpec = {
    maximumRetryAttempts: f.optional(
      "MaximumRetryAttempts",
      "maximumRetryAttempts",
      "number",
      EVENT_CONFIG_EXPECTED.maximumRetryAttempts,
    ),
    maximumEventAgeInSeconds: f.optional(
      "MaximumEventAgeInSeconds",
      "maximumEventAgeInSeconds",
      "number",
      EVENT_CONFIG_EXPECTED.maximumEventAgeInSeconds,
    ),
    ...destinations(f),
  };
  f.done();
  return spec;
}

/** Role: kept when it is a non-empty string; the platform's role otherwise. */
function role(raw: unknown): string | undefined {
  return typeof raw === "string" && raw !== "" ? raw : undefined;
}

/**
 * DeadLetterConfig.TargetArn: the function's name, or the queue's ARN; null when the config is
 * null or names no target (which removes it), undefined when left out.
 */
function deadLetterTarget(f: Fields): string | null | undefined {
  const raw = f.body.DeadLetterConfig;
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  if (typeof raw !== "object") {
    f.problems.push(v.problem("deadLetterConfig", raw, "type", "be an object"));
    return undefined;
  }
  const target = (raw as Body).TargetArn;
  if (target === undefined || target === null || target === "") return null;
  if (typeof target === "string" && isQueueArn(target)) return target;
  const ref = typeof target === "string" ? parseFunctionArn(target) : undefined;
  if (!ref || ref.qualifier !== undefined) {
    throw new NimbusError(
      "InvalidParameter",
      `DeadLetterConfig.TargetArn ${JSON.stringify(target)} is not supported: Nimbus delivers dead letters to a function or a standard queue, named by its ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME, arn:aws:sqs:REGION:ACCOUNT:NAME)`,
    );
  }
  return ref.name;
}

/** DestinationConfig's OnSuccess and OnFailure: left out (kept by an update), or set or removed. */
function destinations(f: Fields): Pick<EventInvokeSpec, "onSuccess" | "onFailure"> {
  const raw = f.body.DestinationConfig;
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null) {
    f.problems.push(v.problem("destinationConfig", raw, "type", "be an object"));
    return {};
  }
  const config = raw as Body;
  return {
    onSuccess: destination(config.OnSuccess, "onSuccess"),
    onFailure: destination(config.OnFailure, "onFailure"),
  };
}

/** `{ Destination }`: a function's or a queue's ARN; none (null, empty, or no Destination) removes it. */
function destination(raw: unknown, field: string): DestinationRef | null | undefined {
  if (raw === undefined) return undefined;
  const arn = typeof raw === "object" && raw !== null ? (raw as Body).Destination : undefined;
  if (arn === undefined || arn === null || arn === "") return null;
  if (typeof arn === "string" && isQueueArn(arn)) return { queueArn: arn };
  const ref = typeof arn === "string" ? parseFunctionArn(arn) : undefined;
  if (!ref) {
    throw new NimbusError(
      "InvalidParameter",
      `The destination ARN ${JSON.stringify(arn)} for ${field} is invalid: Nimbus delivers to functions and standard queues, named by their ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], arn:aws:sqs:REGION:ACCOUNT:NAME)`,
    );
  }
  return { functionName: ref.name, qualifier: ref.qualifier };
}

/** SnapStart.ApplyOn: "PublishedVersions", or null for None (and a null SnapStart). */
function snapStart(f: Fields): "PublishedVersions" | null | undefined {
  const raw = f.body.SnapStart;
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  const applyOn = typeof raw === "object" ? (raw as Body).ApplyOn : undefined;
  if (applyOn === "PublishedVersions") return "PublishedVersions";
  if (applyOn === "None" || applyOn === undefined) return null;
  f.problems.push(
    v.problem("snapStart.applyOn", applyOn, "oneOf", "satisfy enum value set: [PublishedVersions, None]"),
  );
  return undefined;
}

/** The package: `ZipFile`, base64 of the zip, in CreateFunction's Code or UpdateFunctionCode's body. */
function zipFile(code: Body): CodeSource {
  const zip = code.ZipFile;
  if (zip === undefined) {
    if (code.S3Bucket !== undefined || code.ImageUri !== undefined) {
      throw new NimbusError(
        "InvalidParameter",
        "Code must be given as ZipFile: S3Bucket/S3Key and ImageUri are not supported yet",
      );
    }
    throw new NimbusError(
      "InvalidParameter",
      "Code is required: give the package as Code.ZipFile (base64 of a zip)",
    );
  }
  if (typeof zip !== "string")
    throw v.invalid("zipFile", "(not base64 text)", "be the base64 of a zip file", "type");
  return { kind: "zip", zip: Buffer.from(zip, "base64") };
}
