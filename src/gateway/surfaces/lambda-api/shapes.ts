/** Lambda's wire shapes for functions and aliases, built from the platform's model. */

import type { EventInvokeConfig } from "../../../control/async/event-configs-repo.js";
import type { ProvisionedView } from "../../../control/provisioned.js";
import type { Alias, FunctionRecord, FunctionVersion } from "../../../protocol/function.js";
import { DEFAULT_EPHEMERAL_STORAGE_MB } from "../../../protocol/limits.js";

export interface ArnContext {
  readonly region: string;
  readonly accountId: string;
}

export function functionArnOf(ctx: ArnContext, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
}

/** "2026-11-24T15:51:06.000+0000", Lambda's LastModified format. */
export function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

/** Whether a version's cold starts restore a snapshot ("On"), and why not. */
export interface SnapStartView {
  readonly status: "On" | "Off";
  readonly reason?: string | undefined;
}

export function functionConfiguration(
  ctx: ArnContext,
  fn: FunctionVersion,
  snap?: SnapStartView,
): Record<string, unknown> {
  const qualified = fn.version === "$LATEST" ? undefined : fn.version;
  return {
    FunctionName: fn.functionName,
    FunctionArn: functionArnOf(ctx, fn.functionName, qualified),
    Runtime: fn.runtime,
    Role: fn.role,
    Handler: fn.handler,
    CodeSize: fn.codeSize,
    CodeSha256: fn.codeSha256,
    Description: fn.description,
    Timeout: fn.timeoutS,
    MemorySize: fn.memoryMb,
    LastModified: lambdaTimestamp(fn.lastModified),
    Version: fn.version,
    Environment: { Variables: { ...fn.environment } },
    RevisionId: fn.revisionId,
    State: "Active",
    LastUpdateStatus: "Successful",
    PackageType: "Zip",
    Architectures: [fn.architecture],
    EphemeralStorage: { Size: fn.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_STORAGE_MB },
    TracingConfig: { Mode: "PassThrough" },
    SnapStart: {
      ApplyOn: fn.snapStart ?? "None",
      OptimizationStatus: snap?.status ?? "Off",
      ...(snap?.reason ? { OptimizationStatusReason: snap.reason } : {}),
    },
    LoggingConfig: { LogFormat: "Text", LogGroup: `/aws/lambda/${fn.functionName}` },
    ...(fn.deadLetterTarget ? { DeadLetterConfig: { TargetArn: fn.deadLetterTarget } } : {}),
  };
}

export function getFunctionBody(
  ctx: ArnContext,
  fn: FunctionVersion,
  record: FunctionRecord,
  codeUrl: string,
  tags: Readonly<Record<string, string>>,
  snap?: SnapStartView,
): Record<string, unknown> {
  return {
    Configuration: functionConfiguration(ctx, fn, snap),
    Code: { RepositoryType: "S3", Location: codeUrl },
    // Lambda leaves Tags out when the function has none.
    ...(Object.keys(tags).length > 0 ? { Tags: { ...tags } } : {}),
    ...(record.reservedConcurrency === undefined
      ? {}
      : { Concurrency: { ReservedConcurrentExecutions: record.reservedConcurrency } }),
  };
}

export function aliasConfiguration(ctx: ArnContext, a: Alias): Record<string, unknown> {
  const weights = Object.keys(a.additionalVersionWeights).length > 0;
  return {
    AliasArn: functionArnOf(ctx, a.functionName, a.name),
    Name: a.name,
    FunctionVersion: a.functionVersion,
    Description: a.description,
    RevisionId: a.revisionId,
    ...(weights ? { RoutingConfig: { AdditionalVersionWeights: { ...a.additionalVersionWeights } } } : {}),
  };
}

/** FunctionEventInvokeConfig as Lambda returns it (LastModified in epoch seconds). */
export function eventInvokeConfiguration(ctx: ArnContext, c: EventInvokeConfig) {
  return {
    FunctionArn: functionArnOf(ctx, c.functionName, c.qualifier),
    LastModified: c.lastModified / 1000,
    MaximumRetryAttempts: c.maximumRetryAttempts,
    MaximumEventAgeInSeconds: c.maximumEventAgeInSeconds,
    DestinationConfig: {
      OnSuccess: c.onSuccess ? { Destination: c.onSuccess } : {},
      OnFailure: c.onFailure ? { Destination: c.onFailure } : {},
    },
  };
}

/** A provisioned concurrency configuration as Lambda answers it; `withArn` in lists. */
export function provisionedConfiguration(
  ctx: ArnContext,
  p: ProvisionedView,
  withArn = false,
): Record<string, unknown> {
  return {
    ...(withArn ? { FunctionArn: functionArnOf(ctx, p.functionName, p.qualifier) } : {}),
    RequestedProvisionedConcurrentExecutions: p.requested,
    AvailableProvisionedConcurrentExecutions: p.allocated,
    AllocatedProvisionedConcurrentExecutions: p.allocated,
    Status: p.status,
    ...(p.statusReason ? { StatusReason: p.statusReason } : {}),
    LastModified: lambdaTimestamp(p.lastModified),
  };
}
