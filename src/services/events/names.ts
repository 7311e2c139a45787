/**
 * The bus's names and ARNs: `arn:aws:events:<region>:<account>:event-bus/<name>`, a rule's
 * `rule/<name>` on the default bus and `rule/<bus>/<name>` on others, `archive/<name>`,
 * `replay/<name>`. A bus may be named by its name or its ARN wherever EventBridge allows both.
 */
import { validation } from "./errors.js";

export interface EventsAccount {
  readonly region: string;
  readonly accountId: string;
}

export const DEFAULT_BUS = "default";
const BUS_NAME = /^[A-Za-z0-9._\-/]{1,256}$/;
const RULE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ARCHIVE_NAME = /^[A-Za-z0-9._-]{1,48}$/;

export const busArn = (a: EventsAccount, bus: string) =>
  `arn:aws:events:${a.region}:${a.accountId}:event-bus/${bus}`;
export const ruleArn = (a: EventsAccount, bus: string, rule: string) =>
  `arn:aws:events:${a.region}:${a.accountId}:rule/${bus === DEFAULT_BUS ? "" : `${bus}/`}${rule}`;
export const archiveArn = (a: EventsAccount, name: string) =>
  `arn:aws:events:${a.region}:${a.accountId}:archive/${name}`;
export const replayArn = (a: EventsAccount, name: string) =>
  `arn:aws:events:${a.region}:${a.accountId}:replay/${name}`;

/** A bus given by name or ARN (absent: the default bus). */
export function busOf(a: EventsAccount, given: unknown, field = "EventBusName"): string {
  if (given === undefined || given === null || given === "") return DEFAULT_BUS;
  if (typeof given !== "string") throw validation(`${field} must be a string.`);
  const prefix = `arn:aws:events:${a.region}:${a.accountId}:event-bus/`;
  const name = given.startsWith("arn:")
    ? given.startsWith(prefix)
      ? given.slice(prefix.length)
      : ""
    : given;
  if (!BUS_NAME.test(name))
    throw validation(
      `${field} ${JSON.stringify(given)} is not valid: expected a bus name (1 to 256 of letters, digits, . - _ /) or its ARN, ${prefix}<name>.`,
    );
  return name;
}

/** The bus an ARN names, if it is a bus ARN of this account and region. */
export function busFromArn(a: EventsAccount, arn: string): string | undefined {
  const prefix = `arn:aws:events:${a.region}:${a.accountId}:event-bus/`;
  return arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
}

export function checkName(
  kind: "rule" | "archive" | "replay" | "bus" | "connection" | "api-destination",
  name: unknown,
): string {
  const long = kind === "rule" || kind === "connection" || kind === "api-destination";
  const re = long ? RULE_NAME : kind === "bus" ? BUS_NAME : ARCHIVE_NAME;
  const max = long ? 64 : kind === "bus" ? 256 : 48;
  if (typeof name !== "string" || !re.test(name))
    throw validation(
      `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and ${max}.`,
    );
  return name;
}

/** The archive an ARN (or a name) names. */
export function archiveFromArn(a: EventsAccount, given: unknown): string {
  const prefix = `arn:aws:events:${a.region}:${a.accountId}:archive/`;
  if (typeof given !== "string") throw validation("ArchiveArn is required.");
  return checkName("archive", given.startsWith(prefix) ? given.slice(prefix.length) : given);
}

export const connectionArn = (a: EventsAccount, name: string, uuid: string) =>
  `arn:aws:events:${a.region}:${a.accountId}:connection/${name}/${uuid}`;
export const apiDestinationArn = (a: EventsAccount, name: string, uuid: string) =>
  `arn:aws:events:${a.region}:${a.accountId}:api-destination/${name}/${uuid}`;

/**
 * The name and (if given) UUID in a connection or API destination ARN of this account, e.g.
 * `arn:aws:events:<region>:<account>:api-destination/<name>/<uuid>`; undefined if it is not one.
 */
export function namedByArn(
  a: EventsAccount,
  kind: "connection" | "api-destination",
  arn: string,
): { name: string; uuid: string | undefined } | undefined {
  const prefix = `arn:aws:events:${a.region}:${a.accountId}:${kind}/`;
  if (!arn.startsWith(prefix)) return undefined;
  const [name, uuid, ...rest] = arn.slice(prefix.length).split("/");
  if (!name || rest.length > 0 || !RULE_NAME.test(name)) return undefined;
  return { name, uuid: uuid || undefined };
}
