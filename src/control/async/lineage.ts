/**
 * The loop guard's state: how many hops a chain of invocations has made, and whether the guard
 * has already stopped it. Functions that call each other (through the async API or through
 * destinations) would otherwise run forever, so the state travels where a function passes it
 * on unchanged: the trace header, whose `Lineage` field the AWS SDK inside a function copies
 * into every call it makes. This file owns that field's format and nothing else reads it.
 *
 *   Root=1-…;Parent=…;Sampled=0;Lineage=nimbus:3           third hop of a chain
 *   Root=1-…;Parent=…;Sampled=0;Lineage=nimbus:16:stopped   the guard's last hop: what it
 *                                                           starts is stopped silently
 */
import { randomUUID } from "node:crypto";
import { newTraceRoot } from "../invoke-service.js";

/** Hops a chain of invocations may make before the loop guard stops it (Lambda: about 16). */
export const MAX_HOPS = 16;

export interface Lineage {
  /** The trace root every hop of the chain shares. */
  readonly root: string;
  /** Invocations the chain made before this one (0 for an event a client sent). */
  readonly hops: number;
  /** The guard stopped this chain once: a further stop is not routed to a destination again. */
  readonly stopped: boolean;
}

/** A trace header's root and lineage; undefined when it carries no Nimbus lineage. */
export function parseLineage(header: string | undefined): Lineage | undefined {
  if (!header) return undefined;
  const root = /(?:^|;)\s*Root=([^;]+)/.exec(header)?.[1];
  const lineage = /(?:^|;)\s*Lineage=nimbus:(\d+)(:stopped)?/.exec(header);
  if (!root || !lineage) return undefined;
  return { root, hops: Number(lineage[1]), stopped: lineage[2] !== undefined };
}

/** The trace header of one hop: its chain's root, a fresh parent, and the lineage. */
export function formatLineage(l: Lineage): string {
  const parent = randomUUID().replaceAll("-", "").slice(0, 16);
  return `Root=${l.root};Parent=${parent};Sampled=0;Lineage=nimbus:${l.hops}${l.stopped ? ":stopped" : ""}`;
}

/**
 * The lineage of an event accepted with the caller's trace header: one hop further down the
 * caller's chain, or the start of a new chain (a client's own call, or a header without ours).
 */
export function nextHop(header: string | undefined, now: number): Lineage {
  const from = parseLineage(header);
  if (!from) return { root: newTraceRoot(now), hops: 0, stopped: false };
  return { root: from.root, hops: from.hops + 1, stopped: from.stopped };
}

/** Whether an event's chain has gone past the limit: it is not run. */
export function isLoop(hops: number): boolean {
  return hops > MAX_HOPS;
}

/** Whether the guard stopped this event's chain before (its stop is then not routed again). */
export function wasStopped(traceId: string): boolean {
  return parseLineage(traceId)?.stopped ?? false;
}

/**
 * The trace header a destination's delivery is accepted with: one more hop of the event's
 * chain. After a loop-guard stop (`stopped`), the destination gets the last hop allowed, so it
 * runs once and anything it starts is over the limit and stopped without being routed.
 */
export function destinationHeader(
  event: { readonly traceId: string; readonly hops: number },
  stopped: boolean,
  now: number,
): string {
  const from = parseLineage(event.traceId);
  return formatLineage({
    root: from?.root ?? newTraceRoot(now),
    // The accept path adds the one hop: the header carries the hop before it.
    hops: stopped ? MAX_HOPS - 1 : event.hops,
    stopped: stopped || (from?.stopped ?? false),
  });
}
