/** The JSON protocol's shapes of buses and rules, and the small readers of list inputs every listing shares. */
import { validation } from "./errors.js";
import type { EventBusRecord, RuleRecord } from "./model.js";
import { busArn, type EventsAccount, ruleArn } from "./names.js";

type Output = Record<string, unknown>;

export const PAGE = 100;

export function busShape(a: EventsAccount, b: EventBusRecord): Output {
  return {
    Name: b.name,
    Arn: busArn(a, b.name),
    ...(b.description ? { Description: b.description } : {}),
    ...(b.deadLetterArn ? { DeadLetterConfig: { Arn: b.deadLetterArn } } : {}),
    CreationTime: b.createdAt / 1000,
    LastModifiedTime: b.modifiedAt / 1000,
  };
}

export function ruleShape(a: EventsAccount, r: RuleRecord): Output {
  return {
    Name: r.name,
    Arn: ruleArn(a, r.busName, r.name),
    EventPattern: r.eventPattern,
    State: r.state,
    ...(r.description ? { Description: r.description } : {}),
    EventBusName: r.busName,
    CreatedBy: a.accountId,
  };
}

export function optionalString(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length > max)
    throw validation(`${field} must be a string of at most ${max} characters.`);
  return v;
}

export function stringOr(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function tagsOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!Array.isArray(v)) throw validation("Tags must be a list of {Key, Value}.");
  const out: Record<string, string> = {};
  for (const t of v as Array<{ Key?: unknown; Value?: unknown }>) {
    if (typeof t?.Key !== "string" || typeof t.Value !== "string")
      throw validation("Each tag has a Key and a Value, both strings.");
    out[t.Key] = t.Value;
  }
  return out;
}

export function limitOf(v: unknown): number {
  if (v === undefined || v === null) return PAGE;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw validation(`Limit must be an integer from 1 to 100, got ${JSON.stringify(v)}.`);
  return n;
}

export function tokenOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string" || !/^[A-Za-z0-9_-]+$/.test(v))
    throw validation("NextToken is not valid: pass the NextToken of the previous answer as it was.");
  return Buffer.from(v, "base64url").toString("utf8");
}

export function paged<T>(
  page: readonly T[],
  limit: number,
  key: (t: T) => string,
  field: string,
  shape: (t: T) => Output,
): Output {
  const items = page.slice(0, limit);
  return {
    [field]: items.map(shape),
    ...(page.length > limit
      ? { NextToken: Buffer.from(key(items[items.length - 1]!)).toString("base64url") }
      : {}),
  };
}
