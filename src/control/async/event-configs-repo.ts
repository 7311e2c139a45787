/** How each function's asynchronous invocations are retried and routed, as stored. */

/** How asynchronous invocations of a function (version or alias) are retried and routed. */
export interface EventInvokeConfig {
  readonly functionName: string;
  /** `$LATEST`, a version number or an alias name. */
  readonly qualifier: string;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeInSeconds: number;
  /** Function or queue ARNs. */
  readonly onSuccess: string | undefined;
  readonly onFailure: string | undefined;
  /** Epoch ms. */
  readonly lastModified: number;
}

export interface EventConfigsRepo {
  getEventInvokeConfig(functionName: string, qualifier: string): Promise<EventInvokeConfig | undefined>;
  listEventInvokeConfigs(functionName: string): Promise<EventInvokeConfig[]>;
  /** Inserts or replaces the configuration of (function, qualifier). */
  putEventInvokeConfig(config: EventInvokeConfig): Promise<void>;
  deleteEventInvokeConfig(functionName: string, qualifier: string): Promise<boolean>;
}
