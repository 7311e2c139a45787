/**
 * The Lambda operations Nimbus does not implement, with the method and path the SDKs send
 * them on (Lambda's REST model). Routed so that they answer 501 NotImplementedException naming
 * the operation: left to the not-found handler they would answer ResourceNotFoundException,
 * which clients and IaC tools read as "the function does not exist".
 */
import { NimbusError } from "../../../shared/errors.js";

export interface UnsupportedOperation {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Lambda's request URI, labels in braces. */
  readonly path: string;
  /** The operation's name; a function when the query tells two operations on one path apart. */
  readonly operation: string | ((query: URLSearchParams) => string);
}

const op = (
  method: UnsupportedOperation["method"],
  path: string,
  operation: UnsupportedOperation["operation"],
): UnsupportedOperation => ({ method, path, operation });

export const UNSUPPORTED_OPERATIONS: readonly UnsupportedOperation[] = [
  op("POST", "/2014-11-13/functions/{FunctionName}/invoke-async", "InvokeAsync"),
  // Permissions and resource policies
  op("GET", "/2015-03-31/functions/{FunctionName}/policy", "GetPolicy"),
  op("POST", "/2015-03-31/functions/{FunctionName}/policy", "AddPermission"),
  op("DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission"),
  op("GET", "/2026-07-09/resource-policy/{ResourceArn}", "GetResourcePolicy"),
  op("PUT", "/2026-07-09/resource-policy/{ResourceArn}", "PutResourcePolicy"),
  op("DELETE", "/2026-07-09/resource-policy/{ResourceArn}", "DeleteResourcePolicy"),
  // Layers
  op("GET", "/2018-10-31/layers", (q) =>
    q.get("find") === "LayerVersion" ? "GetLayerVersionByArn" : "ListLayers",
  ),
  op("GET", "/2018-10-31/layers/{LayerName}/versions", "ListLayerVersions"),
  op("POST", "/2018-10-31/layers/{LayerName}/versions", "PublishLayerVersion"),
  op("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "GetLayerVersion"),
  op("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "DeleteLayerVersion"),
  op("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "GetLayerVersionPolicy"),
  op("POST", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "AddLayerVersionPermission"),
  op(
    "DELETE",
    "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}",
    "RemoveLayerVersionPermission",
  ),
  // Code signing
  op("GET", "/2020-04-22/code-signing-configs", "ListCodeSigningConfigs"),
  op("POST", "/2020-04-22/code-signing-configs", "CreateCodeSigningConfig"),
  op("GET", "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}", "GetCodeSigningConfig"),
  op("PUT", "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}", "UpdateCodeSigningConfig"),
  op("DELETE", "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}", "DeleteCodeSigningConfig"),
  op(
    "GET",
    "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions",
    "ListFunctionsByCodeSigningConfig",
  ),
  op("GET", "/2020-06-30/functions/{FunctionName}/code-signing-config", "GetFunctionCodeSigningConfig"),
  op("PUT", "/2020-06-30/functions/{FunctionName}/code-signing-config", "PutFunctionCodeSigningConfig"),
  op("DELETE", "/2020-06-30/functions/{FunctionName}/code-signing-config", "DeleteFunctionCodeSigningConfig"),
  // Function URLs
  // Runtime management, recursion and scaling settings
  op("GET", "/2021-07-20/functions/{FunctionName}/runtime-management-config", "GetRuntimeManagementConfig"),
  op("PUT", "/2021-07-20/functions/{FunctionName}/runtime-management-config", "PutRuntimeManagementConfig"),
  op("GET", "/2024-08-31/functions/{FunctionName}/recursion-config", "GetFunctionRecursionConfig"),
  op("PUT", "/2024-08-31/functions/{FunctionName}/recursion-config", "PutFunctionRecursionConfig"),
  op("GET", "/2025-11-30/functions/{FunctionName}/function-scaling-config", "GetFunctionScalingConfig"),
  op("PUT", "/2025-11-30/functions/{FunctionName}/function-scaling-config", "PutFunctionScalingConfig"),
  // Capacity providers (Lambda Managed Instances)
  op("GET", "/2025-11-30/capacity-providers", "ListCapacityProviders"),
  op("POST", "/2025-11-30/capacity-providers", "CreateCapacityProvider"),
  op("GET", "/2025-11-30/capacity-providers/{CapacityProviderName}", "GetCapacityProvider"),
  op("PUT", "/2025-11-30/capacity-providers/{CapacityProviderName}", "UpdateCapacityProvider"),
  op("DELETE", "/2025-11-30/capacity-providers/{CapacityProviderName}", "DeleteCapacityProvider"),
  op(
    "GET",
    "/2025-11-30/capacity-providers/{CapacityProviderName}/function-versions",
    "ListFunctionVersionsByCapacityProvider",
  ),
  // Durable executions
  op("GET", "/2025-12-01/functions/{FunctionName}/durable-executions", "ListDurableExecutionsByFunction"),
  op("GET", "/2025-12-01/durable-executions/{DurableExecutionArn}", "GetDurableExecution"),
  op("GET", "/2025-12-01/durable-executions/{DurableExecutionArn}/history", "GetDurableExecutionHistory"),
  op("GET", "/2025-12-01/durable-executions/{DurableExecutionArn}/state", "GetDurableExecutionState"),
  op("POST", "/2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint", "CheckpointDurableExecution"),
  op("POST", "/2025-12-01/durable-executions/{DurableExecutionArn}/stop", "StopDurableExecution"),
  op(
    "POST",
    "/2025-12-01/durable-execution-callbacks/{CallbackId}/succeed",
    "SendDurableExecutionCallbackSuccess",
  ),
  op(
    "POST",
    "/2025-12-01/durable-execution-callbacks/{CallbackId}/fail",
    "SendDurableExecutionCallbackFailure",
  ),
  op(
    "POST",
    "/2025-12-01/durable-execution-callbacks/{CallbackId}/heartbeat",
    "SendDurableExecutionCallbackHeartbeat",
  ),
];

/** Lambda's `{Label}` path as a router pattern (`:Label`); labels are one percent-encoded segment. */
export function routePattern(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

/** The answer to an operation of the table: what was asked, and that Nimbus does not serve it. */
export function notImplemented(u: UnsupportedOperation, query: URLSearchParams): NimbusError {
  const name = typeof u.operation === "string" ? u.operation : u.operation(query);
  return new NimbusError(
    "NotImplemented",
    `Nimbus does not implement the Lambda operation ${name} (${u.method} ${u.path}); the operations it implements are listed in docs/api.md`,
  );
}
