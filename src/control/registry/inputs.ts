/** The control-plane inputs the registry accepts, with Lambda's field names, unvalidated. */

/** What CreateFunction carries (Lambda's field names). */
export interface CreateFunctionInput {
  FunctionName?: unknown;
  Runtime?: unknown;
  Role?: unknown;
  Handler?: unknown;
  Code?: { ZipFile?: unknown; S3Bucket?: unknown; S3Key?: unknown; ImageUri?: unknown };
  Timeout?: unknown;
  MemorySize?: unknown;
  Environment?: unknown;
  Description?: unknown;
  Publish?: unknown;
  Architectures?: unknown;
  PackageType?: unknown;
  DeadLetterConfig?: unknown;
  SnapStart?: unknown;
  EphemeralStorage?: unknown;
}

export interface UpdateConfigurationInput {
  Runtime?: unknown;
  Role?: unknown;
  Handler?: unknown;
  Timeout?: unknown;
  MemorySize?: unknown;
  Environment?: unknown;
  Description?: unknown;
  RevisionId?: unknown;
  DeadLetterConfig?: unknown;
  SnapStart?: unknown;
  EphemeralStorage?: unknown;
}

export interface UpdateCodeInput {
  ZipFile?: unknown;
  S3Bucket?: unknown;
  Publish?: unknown;
  DryRun?: unknown;
  RevisionId?: unknown;
  Architectures?: unknown;
}

export interface AliasInput {
  Name?: unknown;
  FunctionVersion?: unknown;
  Description?: unknown;
  RoutingConfig?: { AdditionalVersionWeights?: unknown } | null;
  RevisionId?: unknown;
}
