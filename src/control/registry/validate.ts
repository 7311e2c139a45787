/**
 * Validation of control-plane input. Messages follow Lambda's form ("Value 'x' at 'memorySize'
 * failed to satisfy constraint: …") so tools that show them read naturally, and always name the
 * value and what is expected.
 */

import { RESERVED_ENV_KEYS, runtimeKind } from "../../protocol/function.js";
import {
  MAX_DESCRIPTION_LENGTH,
  MAX_ENV_BYTES,
  MAX_EPHEMERAL_STORAGE_MB,
  MAX_FUNCTION_NAME_LENGTH,
  MAX_HANDLER_LENGTH,
  MAX_MEMORY_MB,
  MAX_TIMEOUT_S,
  MIN_EPHEMERAL_STORAGE_MB,
  MIN_MEMORY_MB,
  MIN_TIMEOUT_S,
} from "../../protocol/limits.js";
import { NimbusError } from "../../shared/errors.js";

const NAME = /^[a-zA-Z0-9-_]+$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9-_]+)$/;
const ALIAS = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])*$/;
const ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/;

export function invalid(field: string, value: unknown, constraint: string): NimbusError {
  // A missing member reads "null", as in Lambda's own messages.
  const shown = typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
  return new NimbusError(
    "InvalidParameter",
    `1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

export function checkName(name: unknown, field = "functionName"): string {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > MAX_FUNCTION_NAME_LENGTH ||
    !NAME.test(name)
  ) {
    throw invalid(
      field,
      name,
      `Member must be 1 to ${MAX_FUNCTION_NAME_LENGTH} characters of letters, digits, hyphens and underscores`,
    );
  }
  return name;
}

export interface FunctionRef {
  readonly name: string;
  readonly qualifier: string | undefined;
}

/** Parses a FunctionName as Lambda accepts it: name, name:qualifier, partial or full ARN. */
export function parseFunctionRef(raw: string, queryQualifier?: string): FunctionRef {
  let name = raw;
  let qualifier: string | undefined;
  const partial = PARTIAL_ARN.exec(raw);
  if (raw.startsWith("arn:")) {
    const m = ARN.exec(raw);
    if (!m) throw invalid("functionName", raw, "Member must be a function name or a Lambda function ARN");
    name = m[3]!;
    qualifier = m[4];
  } else if (partial) {
    name = partial[2]!;
    qualifier = partial[3];
  } else if (raw.includes(":")) {
    const parts = raw.split(":");
    if (parts.length !== 2)
      throw invalid("functionName", raw, "Member must be a function name or a Lambda function ARN");
    name = parts[0]!;
    qualifier = parts[1];
  }
  checkName(name);
  if (queryQualifier !== undefined && queryQualifier !== "") {
    if (qualifier !== undefined && qualifier !== queryQualifier) {
      throw new NimbusError(
        "InvalidParameter",
        `The derived qualifier from the function name does not match the specified qualifier: ${qualifier} and ${queryQualifier}.`,
      );
    }
    qualifier = queryQualifier;
  }
  if (qualifier !== undefined) checkQualifier(qualifier);
  return { name, qualifier };
}

export function checkQualifier(q: unknown): string {
  if (typeof q !== "string" || q.length === 0 || q.length > 128 || !QUALIFIER.test(q)) {
    throw invalid("qualifier", q, "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
  }
  return q;
}

export function checkAliasName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 128 || !ALIAS.test(name)) {
    throw invalid(
      "name",
      name,
      "Member must be letters, digits, hyphens and underscores, and not only digits",
    );
  }
  return name;
}

export function checkMemory(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < MIN_MEMORY_MB || v > MAX_MEMORY_MB) {
    throw invalid(
      "memorySize",
      v,
      `Member must be an integer from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} (MB)`,
    );
  }
  return v;
}

/** EphemeralStorage: `{ Size }` in MB, 512 to 10,240. */
export function checkEphemeralStorage(v: unknown): number {
  const size = typeof v === "object" && v !== null ? (v as { Size?: unknown }).Size : undefined;
  if (
    typeof size !== "number" ||
    !Number.isInteger(size) ||
    size < MIN_EPHEMERAL_STORAGE_MB ||
    size > MAX_EPHEMERAL_STORAGE_MB
  ) {
    throw invalid(
      "ephemeralStorage.size",
      size,
      `Member must be an integer from ${MIN_EPHEMERAL_STORAGE_MB} to ${MAX_EPHEMERAL_STORAGE_MB} (MB)`,
    );
  }
  return size;
}

export function checkTimeout(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < MIN_TIMEOUT_S || v > MAX_TIMEOUT_S) {
    throw invalid(
      "timeout",
      v,
      `Member must be an integer from ${MIN_TIMEOUT_S} to ${MAX_TIMEOUT_S} (seconds)`,
    );
  }
  return v;
}

export function checkRuntime(v: unknown): string {
  if (typeof v !== "string" || !runtimeKind(v)) {
    throw invalid(
      "runtime",
      v,
      "Member must be nodejs20.x or a newer nodejsNN.x, or provided, provided.al2, provided.al2023",
    );
  }
  return v;
}

export function checkHandler(v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_HANDLER_LENGTH || !/^[^\s]+$/.test(v)) {
    throw invalid(
      "handler",
      v,
      `Member must be 1 to ${MAX_HANDLER_LENGTH} characters without whitespace, e.g. index.handler`,
    );
  }
  return v;
}

export function checkDescription(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v !== "string" || v.length > MAX_DESCRIPTION_LENGTH) {
    throw invalid(
      "description",
      v,
      `Member must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters`,
    );
  }
  return v;
}

export function checkEnvironment(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  const vars = (v as { Variables?: unknown }).Variables ?? {};
  if (typeof vars !== "object" || vars === null || Array.isArray(vars)) {
    throw invalid("environment.variables", vars, "Member must be a map of strings to strings");
  }
  const out: Record<string, string> = {};
  let bytes = 0;
  const reserved: string[] = [];
  for (const [k, val] of Object.entries(vars)) {
    if (!ENV_KEY.test(k))
      throw invalid(
        "environment.variables",
        k,
        "Keys must start with a letter and hold only letters, digits and underscores",
      );
    if (typeof val !== "string") throw invalid(`environment.variables.${k}`, val, "Member must be a string");
    if ((RESERVED_ENV_KEYS as readonly string[]).includes(k)) reserved.push(k);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(val);
    out[k] = val;
  }
  if (reserved.length > 0) {
    throw new NimbusError(
      "InvalidParameter",
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(", ")}`,
    );
  }
  if (bytes > MAX_ENV_BYTES) {
    throw new NimbusError(
      "InvalidParameter",
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${bytes} bytes`,
    );
  }
  return out;
}

export function checkArchitectures(v: unknown): "x86_64" | "arm64" {
  if (v === undefined) return "x86_64";
  const host = process.arch === "arm64" ? "arm64" : "x86_64";
  if (!Array.isArray(v) || v.length !== 1 || v[0] !== host) {
    throw invalid(
      "architectures",
      v,
      `Member must be ["${host}"], the architecture of this platform's workers`,
    );
  }
  return host;
}

export function checkReservedConcurrency(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw invalid("reservedConcurrentExecutions", v, "Member must be an integer greater than or equal to 0");
  }
  return v;
}

/** An alias's weighted routing: at most one other published version, weight 0.0 to 1.0. */
export function checkRoutingWeights(raw: unknown, functionVersion: string): Record<string, number> {
  const field = "routingConfig.additionalVersionWeights";
  const map = raw ?? {};
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw invalid(field, map, "Member must be a map of version to weight");
  }
  const entries = Object.entries(map);
  if (entries.length > 1) throw invalid(field, map, "Member must have at most 1 entry");
  const weights: Record<string, number> = {};
  for (const [ver, w] of entries) {
    if (typeof w !== "number" || w < 0 || w > 1)
      throw invalid(`${field}.${ver}`, w, "Member must be a number from 0.0 to 1.0");
    if (!/^\d+$/.test(ver)) throw invalid(field, ver, "Keys must be published version numbers");
    if (ver === functionVersion) {
      throw new NimbusError(
        "InvalidParameter",
        `Routing to the alias's own version ${ver} is not allowed: name a second version`,
      );
    }
    weights[ver] = w;
  }
  if (entries.length > 0 && functionVersion === "$LATEST") {
    throw new NimbusError(
      "InvalidParameter",
      "Weighted routing needs the alias to point at a published version, not $LATEST",
    );
  }
  return weights;
}

/** DeadLetterConfig's TargetArn: a function ARN, or undefined when absent or empty. */
export function checkDeadLetterTarget(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object") throw invalid("deadLetterConfig", raw, "Member must be an object");
  const target = (raw as { TargetArn?: unknown }).TargetArn;
  if (target === undefined || target === null || target === "") return undefined;
  if (
    typeof target !== "string" ||
    !/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+$/.test(target)
  ) {
    throw new NimbusError(
      "InvalidParameter",
      `DeadLetterConfig.TargetArn ${JSON.stringify(target)} is not supported: Nimbus delivers dead letters to a function, named by its ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)`,
    );
  }
  return target;
}

/** The package of CreateFunction's Code (or UpdateFunctionCode): base64 ZipFile, decoded. */
export function checkZipFile(zipField: unknown, code: unknown): Buffer {
  const c = (code ?? {}) as Record<string, unknown>;
  if (zipField === undefined) {
    if (c.S3Bucket !== undefined || c.ImageUri !== undefined) {
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
  if (typeof zipField !== "string")
    throw invalid("zipFile", "(not base64 text)", "Member must be the base64 of a zip file");
  return Buffer.from(zipField, "base64");
}

/** SnapStart: `{ApplyOn: "PublishedVersions" | "None"}`; undefined for None. */
export function checkSnapStart(raw: unknown): "PublishedVersions" | undefined {
  if (raw === undefined || raw === null) return undefined;
  const applyOn = typeof raw === "object" ? (raw as { ApplyOn?: unknown }).ApplyOn : undefined;
  if (applyOn === "PublishedVersions") return "PublishedVersions";
  if (applyOn === "None" || applyOn === undefined) return undefined;
  throw invalid(
    "snapStart.applyOn",
    applyOn,
    "Member must satisfy enum value set: [PublishedVersions, None]",
  );
}
