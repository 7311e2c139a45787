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
  /** An API destination target's `HttpParameters`; undefined for other targets. */
  readonly httpParameters?: TargetHttpParameters | undefined;
}

/** What a target adds to each request to its API destination. */
export interface TargetHttpParameters {
  /** Each fills the next `*` of the destination's endpoint. */
  readonly pathValues: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
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

// ── Connections, API destinations and their deliveries (`api-destinations.ts`) ──────────────

export type ConnectionAuthorizationType = "BASIC" | "API_KEY" | "OAUTH_CLIENT_CREDENTIALS";
export type ConnectionState = "AUTHORIZED" | "DEAUTHORIZED";

/** A header, query string or body parameter a connection adds to each request. */
export interface HttpParameter {
  readonly key: string;
  readonly value: string;
  /** Never shown by Describe (EventBridge keeps such values in its secret). */
  readonly secret: boolean;
}

/**
 * How a connection authorizes its requests, secrets included: the store keeps it whole (the
 * data directory is the platform's alone); answers never show the secrets.
 */
export interface ConnectionAuth {
  readonly basic?: { readonly username: string; readonly password: string };
  /**
   * A header sent with each request; named `webhook-signature` with a `whsec_` secret, it is
   * no header but the key each request is signed with as Standard Webhooks.
   */
  readonly apiKey?: { readonly name: string; readonly value: string };
  readonly oauth?: {
    readonly authorizationEndpoint: string;
    readonly httpMethod: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly headers: readonly HttpParameter[];
    readonly queryString: readonly HttpParameter[];
    readonly body: readonly HttpParameter[];
  };
  readonly invocation: {
    readonly headers: readonly HttpParameter[];
    readonly queryString: readonly HttpParameter[];
    readonly body: readonly HttpParameter[];
  };
}

export interface ConnectionRecord {
  /** 1 to 64 of letters, digits, `.`, `-`, `_`. */
  readonly name: string;
  /** Fixed at creation: the ARN is `arn:aws:events:<region>:<account>:connection/<name>/<uuid>`. */
  readonly uuid: string;
  readonly description: string | undefined;
  readonly authorizationType: ConnectionAuthorizationType;
  readonly auth: ConnectionAuth;
  readonly state: ConnectionState;
  readonly stateReason: string | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly modifiedAt: number;
  readonly authorizedAt: number | undefined;
}

export type HttpMethod = "POST" | "GET" | "HEAD" | "OPTIONS" | "PUT" | "PATCH" | "DELETE";

export interface ApiDestinationRecord {
  readonly name: string;
  /** The ARN is `arn:aws:events:<region>:<account>:api-destination/<name>/<uuid>`. */
  readonly uuid: string;
  readonly description: string | undefined;
  readonly connectionName: string;
  /** An http(s) URL; each `*` in it takes a target's `HttpParameters.PathParameterValues`, in order. */
  readonly endpoint: string;
  readonly httpMethod: HttpMethod;
  /** Requests per second at most; undefined: EventBridge's default, 300. */
  readonly rateLimitPerSecond: number | undefined;
  readonly state: "ACTIVE" | "INACTIVE";
  readonly createdAt: number;
  readonly modifiedAt: number;
}

/** What a delivery carries from the rule and target that matched, fixed when it was queued. */
export interface HttpDeliverySpec {
  readonly ruleArn: string;
  readonly targetArn: string;
  readonly targetId: string;
  /** The target's `HttpParameters`. */
  readonly pathValues: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The target's dead-letter queue, else its bus's. */
  readonly deadLetterArn: string | undefined;
  /** Attempts after the first (RetryPolicy.MaximumRetryAttempts, 185 by default). */
  readonly maxRetries: number;
  /** Epoch ms after which no attempt is made (RetryPolicy.MaximumEventAgeInSeconds). */
  readonly expiresAt: number;
}

/** One event on its way to an API destination: durable from PutEvents' answer until delivered or dead-lettered. */
export interface HttpDeliveryRecord {
  /** A UUID: also the delivery's `webhook-id`, the same on every attempt. */
  readonly id: string;
  readonly destinationName: string;
  /** Epoch ms the event was accepted. */
  readonly createdAt: number;
  /** Epoch ms of the next attempt (or when a claim on it lapses). */
  readonly nextAt: number;
  /** Attempts made so far. */
  readonly attempts: number;
  readonly spec: HttpDeliverySpec;
  /** The request body, as the target's input made it. */
  readonly payload: string;
  readonly lastError: string | undefined;
}
