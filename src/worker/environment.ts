/** The environment an instance starts with: Lambda's reserved variables plus the function's own. */
import type { FunctionVersion } from "../protocol/function.js";

const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

export interface EnvironmentInput {
  readonly fn: FunctionVersion;
  readonly region: string;
  readonly runtimeApi: string;
  /** The Unix socket of the same Runtime API, offered to Nimbus's own runtimes. */
  readonly runtimeApiSocket?: string;
  /** The Runtime API's HTTP socket, for the relay of a custom runtime in a jail. */
  readonly runtimeApiHttpSocket?: string;
  readonly codeDir: string;
  readonly runtimeDir: string;
  readonly tmpDir: string;
  readonly instanceId: string;
  readonly startedAt: number;
  readonly initializationType?: "on-demand" | "provisioned-concurrency" | "snap-start";
}

/** What every runtime starts with, a pooled one (not yet bound to a function) included. */
export function baseEnvironment(tmpDir: string, runtimeDir: string): Record<string, string> {
  return {
    PATH: BASE_PATH,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    TMPDIR: tmpDir,
    HOME: tmpDir,
    LAMBDA_RUNTIME_DIR: runtimeDir,
  };
}

/** Builds the complete environment; nothing of the platform's own environment is included. */
export function instanceEnvironment(input: EnvironmentInput): Record<string, string> {
  const { fn } = input;
  const day = new Date(input.startedAt).toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    ...fn.environment,
    ...baseEnvironment(input.tmpDir, input.runtimeDir),
    _HANDLER: fn.handler,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: fn.version,
    AWS_LAMBDA_INITIALIZATION_TYPE: input.initializationType ?? "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${fn.version}]${input.instanceId}`,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    LAMBDA_TASK_ROOT: input.codeDir,
    ...(input.runtimeApiSocket ? { NIMBUS_RUNTIME_API_SOCKET: input.runtimeApiSocket } : {}),
    ...(input.runtimeApiHttpSocket ? { NIMBUS_RUNTIME_API_HTTP_SOCKET: input.runtimeApiHttpSocket } : {}),
  };
}
