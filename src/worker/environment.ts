/** The environment an instance starts with: Lambda's reserved variables plus the function's own. */
import type { FunctionVersion } from "../protocol/function.js";

const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

export interface EnvironmentInput {
  readonly fn: FunctionVersion;
  readonly region: string;
  readonly runtimeApi: string;
  /** The Unix socket of the same Runtime API, offered to Nimbus's own runtimes. */
  readonly runtimeApiSocket?: string;
  readonly codeDir: string;
  readonly runtimeDir: string;
  readonly tmpDir: string;
  readonly instanceId: string;
  readonly startedAt: number;
}

/** Builds the complete environment; nothing of the platform's own environment is included. */
export function instanceEnvironment(input: EnvironmentInput): Record<string, string> {
  const { fn } = input;
  const day = new Date(input.startedAt).toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    ...fn.environment,
    PATH: BASE_PATH,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    TMPDIR: input.tmpDir,
    HOME: input.tmpDir,
    _HANDLER: fn.handler,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: fn.version,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${fn.version}]${input.instanceId}`,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    LAMBDA_TASK_ROOT: input.codeDir,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    ...(input.runtimeApiSocket ? { NIMBUS_RUNTIME_API_SOCKET: input.runtimeApiSocket } : {}),
  };
}
