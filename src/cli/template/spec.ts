/** What a template asks for, once read: the stack's functions and HTTP APIs as plain data. */

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

export interface StackSpec {
  readonly stackName: string;
  readonly functions: readonly FunctionSpec[];
  readonly apis: readonly ApiSpec[];
  /** What was read but has no effect (Outputs, Metadata), printed with the plan. */
  readonly warnings: readonly string[];
}

export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
}
