/** What a template asks for, once read: the stack's functions, HTTP APIs, queues, schedules and events as plain data. */

export interface UrlSpec {
  readonly authType: "NONE" | "AWS_IAM";
  readonly invokeMode: string;
  /** Lambda's Cors shape (AllowOrigins, AllowMethods…), as the template gives it. */
  readonly cors?: Readonly<Record<string, unknown>>;
}

export interface FunctionSpec {
  readonly logicalId: string;
  /** FunctionName, or `{StackName}-{LogicalId}`. */
  readonly name: string;
  /** CodeUri, absolute. */
  readonly codeDir: string;
  readonly runtime: string;
  /** Undefined: the deploy command's default for the runtime. */
  readonly handler: string | undefined;
  readonly memoryMb: number;
  readonly timeoutS: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly description: string;
  /** AutoPublishAlias. */
  readonly alias: string | undefined;
  url?: UrlSpec;
}

export interface AuthorizerSpec {
  readonly name: string;
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly identitySource: string;
}

export interface RouteSpec {
  readonly functionId: string;
  readonly eventId: string;
  /** `GET /items/{id}`, `ANY /{proxy+}` or `$default`. */
  readonly routeKey: string;
  readonly payloadFormatVersion: string;
  /** The event's Auth.Authorizer; "NONE" opts out of the API's default. */
  readonly authorizer?: string;
}

export interface ApiSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly stageName: string;
  description?: string;
  /** CorsConfiguration in the template's (SAM's) capitalised names. */
  cors?: Readonly<Record<string, unknown>>;
  stageVariables?: Record<string, string>;
  accessLog?: { destinationArn: string; format: string };
  readonly authorizers: AuthorizerSpec[];
  defaultAuthorizer?: string;
  readonly routes: RouteSpec[];
}

/** An AWS::SQS::Queue. */
export interface QueueSpec {
  readonly logicalId: string;
  /** QueueName, or `{StackName}-{LogicalId}` (with `.fifo` for a FIFO queue). */
  readonly name: string;
  readonly fifo: boolean;
  /**
   * The attributes the template manages, in SQS's names and string values: those it sets, and
   * SQS's defaults for those it leaves out (so that removing a property resets it).
   */
  readonly attributes: Readonly<Record<string, string>>;
}

/** A function's SQS event: an event source mapping from the queue to the function (its alias, if any). */
export interface QueueEventSpec {
  readonly functionId: string;
  readonly eventId: string;
  readonly queueArn: string;
  /** Lambda's defaults for what the event leaves out, so that removing a property resets it. */
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly enabled: boolean;
  /** FilterCriteria's patterns, as JSON text. */
  readonly filters: readonly string[];
  readonly functionResponseTypes: readonly string[];
  /** ScalingConfig.MaximumConcurrency. */
  readonly maximumConcurrency: number | undefined;
}

/**
 * A function's Schedule or ScheduleV2 event: a schedule of EventBridge Scheduler, in the stack's
 * schedule group, invoking the function (its alias, if any). What the event leaves out is
 * Scheduler's default, so that removing a property resets it.
 */
export interface ScheduleSpec {
  readonly functionId: string;
  readonly eventId: string;
  readonly type: "Schedule" | "ScheduleV2";
  /** Name, or `{FunctionLogicalId}-{EventId}`. */
  readonly name: string;
  readonly expression: string;
  /** ScheduleExpressionTimezone; UTC for a Schedule event, as an EventBridge rule's cron is. */
  readonly timezone: string;
  readonly state: "ENABLED" | "DISABLED";
  readonly description: string | undefined;
  readonly input: string | undefined;
  /** FlexibleTimeWindow's MaximumWindowInMinutes; undefined: Mode OFF. */
  readonly flexibleWindowMinutes: number | undefined;
  /** Epoch seconds, as Scheduler's wire has them. */
  readonly startDate: number | undefined;
  readonly endDate: number | undefined;
  readonly kmsKeyArn: string | undefined;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeInSeconds: number;
  /** DeadLetterConfig.Arn: a queue. */
  readonly deadLetterArn: string | undefined;
}

export interface StackSpec {
  readonly stackName: string;
  readonly functions: readonly FunctionSpec[];
  readonly apis: readonly ApiSpec[];
  /** In creation order: a queue another one's RedrivePolicy names comes first. */
  readonly queues: readonly QueueSpec[];
  readonly queueEvents: readonly QueueEventSpec[];
  readonly schedules: readonly ScheduleSpec[];
  /** The schedule group the stack keeps its schedules in (named after the stack). */
  readonly scheduleGroup: string;
  /** What was read but has no effect (Outputs, Metadata), printed with the plan. */
  readonly warnings: readonly string[];
}

export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
}

export function queueArn(region: string, accountId: string, name: string): string {
  return `arn:aws:sqs:${region}:${accountId}:${name}`;
}

/** The schedule group of a stack: its name, in the letters Scheduler takes ([0-9a-zA-Z-_.], at most 64). */
export function scheduleGroupName(stackName: string): string {
  return stackName.replace(/[^0-9a-zA-Z._-]/g, "-").slice(0, 64) || "-";
}

export function queueUrl(endpoint: string, accountId: string, name: string): string {
  return `${endpoint.replace(/\/+$/, "")}/${accountId}/${encodeURIComponent(name)}`;
}
