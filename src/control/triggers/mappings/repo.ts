/**
 * Event source mappings as stored: a queue (by ARN) read by pollers that invoke a function
 * with batches of its messages. Lambda's `CreateEventSourceMapping` and friends manage them
 * (`gateway/surfaces/lambda-api`); `mappings.ts` checks every field before it is stored.
 */

/** Where a mapping is in its life, as Lambda names it. */
export type MappingState =
  | "Creating"
  | "Enabling"
  | "Enabled"
  | "Disabling"
  | "Disabled"
  | "Updating"
  | "Deleting";

export interface EventSourceMapping {
  /** A UUID: the mapping's id. */
  readonly uuid: string;
  /** The queue read: `arn:aws:sqs:<region>:<account>:<name>`. */
  readonly eventSourceArn: string;
  readonly functionName: string;
  /** An alias or version the batches invoke; undefined for $LATEST (unqualified). */
  readonly qualifier: string | undefined;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  /** `["ReportBatchItemFailures"]` or empty. */
  readonly functionResponseTypes: readonly string[];
  /** Each an EventBridge pattern as given (JSON text); a message matching none is dropped. */
  readonly filters: readonly string[];
  /** At most this many invocations of the mapping at once (Lambda's ScalingConfig); undefined: the platform's default. */
  readonly maximumConcurrency: number | undefined;
  readonly enabled: boolean;
  readonly state: MappingState;
  readonly stateTransitionReason: string;
  /** What the last batch did: "OK", "PROBLEM: …", or "No records processed". */
  readonly lastProcessingResult: string;
  /** Epoch ms. */
  readonly lastModified: number;
}

export interface EventSourceMappingsRepo {
  getMapping(uuid: string): Promise<EventSourceMapping | undefined>;
  /**
   * Mappings in byte order of their UUIDs after `after`, at most `limit`, of one queue or one
   * function when given (both: both must hold).
   */
  listMappings(o: {
    eventSourceArn?: string;
    functionName?: string;
    after?: string;
    limit: number;
  }): Promise<EventSourceMapping[]>;
  /** Adds it; false (nothing written) if its UUID exists. */
  createMapping(m: EventSourceMapping): Promise<boolean>;
  /** Replaces the mapping of that UUID; false if none. */
  updateMapping(m: EventSourceMapping): Promise<boolean>;
  deleteMapping(uuid: string): Promise<boolean>;
}
