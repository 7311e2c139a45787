/**
 * The event bus as stored: buses, their rules and each rule's targets, archives of the events
 * a bus saw, and replays of an archive. Names and shapes follow EventBridge's
 * (`@aws-sdk/client-eventbridge`); `events.ts` checks everything before it is stored.
 */

export interface EventBusRecord {
  /** `default`, or a name of 1 to 256 of letters, digits, `.`, `-`, `_`, `/`. */
  readonly name: string;
  readonly description: string | undefined;
  /** An SQS queue ARN that receives events no target could take. */
  readonly deadLetterArn: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export type RuleState = "ENABLED" | "DISABLED";

export interface RuleRecord {
  readonly busName: string;
  readonly name: string;
  /** The pattern as given (JSON text), byte for byte. */
  readonly eventPattern: string;
  readonly state: RuleState;
  readonly description: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export interface InputTransformer {
  readonly inputPathsMap: Readonly<Record<string, string>>;
  readonly inputTemplate: string;
}

export interface TargetRecord {
  readonly busName: string;
  readonly ruleName: string;
  /** Unique per rule. */
  readonly id: string;
  /** A function, a queue, or another bus. */
  readonly arn: string;
  /** At most one of input, inputPath, inputTransformer. */
  readonly input: string | undefined;
  readonly inputPath: string | undefined;
  readonly inputTransformer: InputTransformer | undefined;
  readonly maximumRetryAttempts: number | undefined;
  readonly maximumEventAgeInSeconds: number | undefined;
  /** An SQS queue ARN for events this target could not take. */
  readonly deadLetterArn: string | undefined;
}

export type ArchiveState = "ENABLED" | "DISABLED";

export interface ArchiveRecord {
  readonly name: string;
  readonly busName: string;
  /** Only events matching it are archived; undefined: all of the bus's events. */
  readonly eventPattern: string | undefined;
  readonly description: string | undefined;
  /** 0: kept indefinitely. */
  readonly retentionDays: number;
  readonly state: ArchiveState;
  readonly createdAt: number;
}

/** An archived event: the envelope as the bus delivered it (JSON text), in arrival order. */
export interface ArchivedEvent {
  /** Increasing per archive. */
  readonly seq: number;
  /** The event's own `time`, epoch ms: replays select by it. */
  readonly time: number;
  readonly event: string;
}

export type ReplayState = "STARTING" | "RUNNING" | "CANCELLING" | "COMPLETED" | "CANCELLED" | "FAILED";

export interface ReplayRecord {
  readonly name: string;
  readonly archiveName: string;
  readonly description: string | undefined;
  /** Epoch ms: the events whose time is in [start, end). */
  readonly eventStartTime: number;
  readonly eventEndTime: number;
  readonly destinationBus: string;
  /** Only these rules of the destination bus see the replayed events; empty: all. */
  readonly destinationRules: readonly string[];
  readonly state: ReplayState;
  readonly stateReason: string | undefined;
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  /** The time of the last event replayed, epoch ms. */
  readonly lastReplayedAt: number | undefined;
}
