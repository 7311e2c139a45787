/** Provisioned concurrency's storage: what is asked per version or alias, and the spans billed. */

/** Provisioned concurrency asked for a published version or an alias. */
export interface ProvisionedConfig {
  readonly functionName: string;
  /** A version number or an alias name (never `$LATEST`). */
  readonly qualifier: string;
  readonly requested: number;
  /** Epoch ms. */
  readonly lastModified: number;
}

/** How long one provisioned instance was kept (billed by the time it is up, busy or not). */
export interface ProvisionedSpan {
  readonly functionName: string;
  readonly version: string;
  readonly instanceId: string;
  readonly memoryMb: number;
  /** Epoch ms: initialised, and stopped (undefined while it runs). */
  readonly startedAt: number;
  readonly stoppedAt: number | undefined;
}

export interface ProvisionedRepo {
  /** Of one function, or (no name) of every function. */
  listProvisionedConfigs(functionName?: string): Promise<ProvisionedConfig[]>;
  /** Inserts or replaces the configuration of (function, qualifier). */
  putProvisionedConfig(config: ProvisionedConfig): Promise<void>;
  deleteProvisionedConfig(functionName: string, qualifier: string): Promise<boolean>;
  recordProvisionedSpan(span: ProvisionedSpan): Promise<void>;
  /** Ended spans of a function that overlap [from, to), oldest first. */
  provisionedSpans(functionName: string | undefined, from: number, to: number): Promise<ProvisionedSpan[]>;
}
