/** The platform's model of a function version, shared by the control plane and the workers. */
import type { FunctionSandbox } from "./sandbox.js";

export const LATEST = "$LATEST";

/** Runtimes Nimbus runs. Node names are accepted from nodejs20.x up; `provided*` runs `bootstrap`. */
export const NODE_RUNTIME_PATTERN = /^nodejs(2[0-9]|[3-9][0-9])\.x$/;
export const CUSTOM_RUNTIMES = ["provided", "provided.al2", "provided.al2023"] as const;

export type RuntimeKind = "node" | "custom";

export function runtimeKind(runtime: string): RuntimeKind | undefined {
  if (NODE_RUNTIME_PATTERN.test(runtime)) return "node";
  if ((CUSTOM_RUNTIMES as readonly string[]).includes(runtime)) return "custom";
  return undefined;
}

/** One immutable version of a function ($LATEST is replaced, never mutated, on update). */
export interface FunctionVersion {
  readonly functionName: string;
  /** "$LATEST" or a published number as a string. */
  readonly version: string;
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutS: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly description: string;
  readonly role: string;
  /** Content address of the package (hex sha256 of the zip). */
  readonly packageId: string;
  /** Base64 sha256 of the zip, as Lambda reports CodeSha256. */
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly revisionId: string;
  /** Epoch milliseconds. */
  readonly lastModified: number;
  readonly architecture: "x86_64" | "arm64";
  /**
   * DeadLetterConfig.TargetArn: the function or standard queue (its ARN) that receives the event
   * of a failed asynchronous invocation when no on-failure destination is set (Lambda's legacy
   * dead-letter target).
   */
  readonly deadLetterTarget?: string | undefined;
  /** SnapStart.ApplyOn: "PublishedVersions" snapshots each published version's init. */
  readonly snapStart?: "PublishedVersions" | undefined;
  /** EphemeralStorage.Size: /tmp's size in MB where the sandbox gives one of its own (512 when unset). */
  readonly ephemeralStorageMb?: number | undefined;
  /**
   * The function's sandbox settings (tier, network), when any are set. Function-wide, not
   * versioned: the registry adds them to every version it resolves.
   */
  readonly sandbox?: FunctionSandbox | undefined;
}

export interface Alias {
  readonly functionName: string;
  readonly name: string;
  readonly functionVersion: string;
  readonly description: string;
  /** Weighted routing: a second version and the share of invocations it receives (0..1). */
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
  readonly revisionId: string;
}

export interface FunctionRecord {
  readonly name: string;
  /** Reserved concurrency; undefined when the function uses the unreserved pool. */
  readonly reservedConcurrency: number | undefined;
  readonly createdAt: number;
  /** The highest published version number (0 when none). */
  readonly lastVersion: number;
  /** Its sandbox settings, when any are set (`nimbus sandbox`). */
  readonly sandbox?: FunctionSandbox | undefined;
  /** Its tags (Lambda's TagResource), when it has any. */
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** Variables the platform sets; a function may not override them. */
export const RESERVED_ENV_KEYS = [
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_LAMBDA_RUNTIME_API",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
] as const;

/** A function's ARN, Lambda's form: `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`. */
export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
}

const FUNCTION_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)(?::([^:]+))?$/;

/** The name and qualifier a function ARN names (the inverse of `functionArn`), or undefined. */
export function parseFunctionArn(arn: string): { name: string; qualifier: string | undefined } | undefined {
  const m = FUNCTION_ARN.exec(arn);
  return m ? { name: m[1]!, qualifier: m[2] } : undefined;
}

/**
 * One exact version's identity: its name, number and revision. Instances, provisioned ones
 * and snapshots are kept per key, so that an updated $LATEST (a new revision) never reuses
 * what an older one started.
 */
export function versionKey(fn: Pick<FunctionVersion, "functionName" | "version" | "revisionId">): string {
  return `${fn.functionName}\u0000${fn.version}\u0000${fn.revisionId}`;
}
