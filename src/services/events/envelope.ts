/**
 * PutEvents entries checked as EventBridge checks them, and the envelope a bus delivers:
 * `{version, id, detail-type, source, account, time, region, resources, detail}`. An entry
 * that is wrong fails alone, with EventBridge's error code; the request as a whole fails only
 * when it is malformed (no entries, more than 10, over 256 KB).
 */
import { randomUUID } from "node:crypto";
import { EventsError } from "./errors.js";
import type { EventsAccount } from "./names.js";

export const MAX_ENTRIES = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

export interface Envelope {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  "replay-name"?: string;
}

export type EntryOutcome =
  | {
      readonly ok: true;
      readonly bus: unknown;
      readonly event: Envelope;
      readonly traceHeader: string | undefined;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** EventBridge's measure of an entry: its time (14 bytes if set), source, detail type, detail and resources. */
export function entrySize(e: Readonly<Record<string, unknown>>): number {
  let n = e.Time !== undefined ? 14 : 0;
  for (const k of ["Source", "DetailType", "Detail"] as const)
    if (typeof e[k] === "string") n += Buffer.byteLength(e[k] as string);
  if (Array.isArray(e.Resources))
    for (const r of e.Resources) if (typeof r === "string") n += Buffer.byteLength(r);
  return n;
}

/** Checks the request's entries as a whole; each entry is read by `readEntry`. */
export function checkEntries(entries: unknown): Array<Readonly<Record<string, unknown>>> {
  if (!Array.isArray(entries) || entries.length === 0)
    throw new EventsError(
      "ValidationException",
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  if (entries.length > MAX_ENTRIES)
    throw new EventsError(
      "ValidationException",
      `1 validation error detected: Value '[…${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
    );
  const total = entries.reduce((n: number, e) => n + entrySize((e ?? {}) as Record<string, unknown>), 0);
  if (total > MAX_REQUEST_BYTES)
    throw new EventsError(
      "ValidationException",
      `Total size of the entries in the request is over the limit: ${total} bytes, at most ${MAX_REQUEST_BYTES}.`,
    );
  return entries as Array<Readonly<Record<string, unknown>>>;
}

function invalid(message: string): EntryOutcome {
  return { ok: false, code: "InvalidArgument", message };
}

/** One entry: its envelope, or why it fails. */
export function readEntry(
  e: Readonly<Record<string, unknown>>,
  account: EventsAccount,
  now: number,
): EntryOutcome {
  for (const [k, max] of [
    ["Source", 256],
    ["DetailType", 128],
  ] as const) {
    const v = e[k];
    if (v === undefined || v === null || v === "")
      return invalid(`Parameter ${k} is not valid. Reason: ${k} is a required argument.`);
    if (typeof v !== "string" || v.length > max)
      return invalid(
        `Parameter ${k} is not valid. Reason: ${k} must be a string of at most ${max} characters.`,
      );
  }
  if (e.Detail === undefined || e.Detail === null || e.Detail === "")
    return invalid("Parameter Detail is not valid. Reason: Detail is a required argument.");
  let detail: unknown;
  try {
    detail = JSON.parse(String(e.Detail));
  } catch {
    return { ok: false, code: "MalformedDetail", message: "Detail is malformed." };
  }
  if (typeof detail !== "object" || detail === null || Array.isArray(detail))
    return { ok: false, code: "MalformedDetail", message: "Detail is malformed: it must be a JSON object." };
  const resources = e.Resources ?? [];
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === "string"))
    return invalid("Parameter Resources is not valid. Reason: Resources must be a list of ARNs.");
  let time = now;
  if (e.Time !== undefined && e.Time !== null) {
    time = typeof e.Time === "number" ? e.Time * 1000 : Date.parse(String(e.Time));
    if (!Number.isFinite(time))
      return invalid("Parameter Time is not valid. Reason: Time must be a timestamp.");
  }
  return {
    ok: true,
    bus: e.EventBusName,
    traceHeader: typeof e.TraceHeader === "string" ? e.TraceHeader : undefined,
    event: {
      version: "0",
      id: randomUUID(),
      "detail-type": e.DetailType as string,
      source: e.Source as string,
      account: account.accountId,
      time: isoSeconds(time),
      region: account.region,
      resources: resources as string[],
      detail: detail as Record<string, unknown>,
    },
  };
}

/** `2026-12-06T17:00:00Z`: EventBridge's time, to the second. */
export function isoSeconds(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
