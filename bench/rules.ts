/**
 * Rule matching on a bus with 1,000 rules, in process (no HTTP): what `BusRules.matching` (the
 * bus's rule index, `src/services/events/rules.ts`) costs per event. The rules and events are
 * drawn by a seeded generator (the same in every run and checkout): 40 sources of 5 detail-types
 * each, patterns on source and detail-type with detail filters of every kind (literals, prefix,
 * numeric ranges, anything-but, exists, equals-ignore-case, wildcard, nested arrays, $or), a few
 * rules over several sources or none, a few disabled; each event matches a few rules. Baselines
 * in the same run: a bus of 1 rule that every event is tried against (one pattern's cost), and a
 * naive loop over all 1,000 compiled patterns (what the index saves).
 */

import type { RuleRecord } from "../src/services/events/model.js";
import { BusRules, type CompiledRule, compileRule } from "../src/services/events/rules.js";
import { type BenchContext, type FigureResult, fmtInt, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { medianOfFew, percentile } from "./lib/stats.js";

const TARGET_US = 20;
/** Events timed together: one hrtime pair per batch, so the clock's cost stays out. */
const BATCH = 100;

/** mulberry32: a small seeded generator. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DOMAINS = ["shop", "billing", "auth", "inventory", "shipping", "search", "media", "chat"];
const ENTITIES = ["Order", "Payment", "User", "Item", "Job"];
const VERBS = ["Created", "Updated", "Deleted", "Failed", "Completed"];
const STATUSES = ["new", "paid", "shipped", "cancelled", "failed"];
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"];
const COUNTRIES = ["FR", "DE", "US", "IN", "BR"];
const SOURCES = DOMAINS.flatMap((d) => ENTITIES.map((e) => `com.acme.${d}.${e.toLowerCase()}`));

type Rand = () => number;
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

function detailTypeOf(source: string, verb: string): string {
  const entity = source.slice(source.lastIndexOf(".") + 1);
  return `${entity[0]!.toUpperCase()}${entity.slice(1)} ${verb}`;
}

/** One detail filter, of a kind chosen at random. */
function detailFilter(r: Rand): Record<string, unknown> {
  const amount = Math.floor(r() * 1000);
  const filters: (() => Record<string, unknown>)[] = [
    () => ({ status: [pick(r, STATUSES), pick(r, STATUSES)] }),
    () => ({ amount: [{ numeric: [">", amount] }] }),
    () => ({ amount: [{ numeric: [">=", amount, "<", amount + 200] }] }),
    () => ({ region: [{ prefix: pick(r, ["eu-", "us-", "ap-"]) }] }),
    () => ({ status: [{ "anything-but": ["cancelled", "failed"] }] }),
    () => ({ customer: { tier: [{ exists: true }] } }),
    () => ({ customer: { country: [{ "equals-ignore-case": pick(r, COUNTRIES).toLowerCase() }] } }),
    () => ({ id: [{ wildcard: `x-${Math.floor(r() * 10)}*` }] }),
    () => ({ items: { sku: [{ prefix: pick(r, ["A-", "B-", "C-"]) }] } }),
    () => ({ $or: [{ status: ["failed"] }, { amount: [{ numeric: [">", 900] }] }] }),
  ];
  return pick(r, filters)();
}

function patternOf(r: Rand, i: number): Record<string, unknown> {
  const source = SOURCES[i % SOURCES.length]!;
  const kind = r();
  // No source (tried for every event): a detail-type across sources, or a detail filter with a region.
  if (kind < 0.04)
    return r() < 0.5
      ? { "detail-type": [detailTypeOf(pick(r, SOURCES), "Failed")] }
      : { region: [pick(r, REGIONS)], detail: { status: ["failed"], ...detailFilter(r) } };
  const sources = kind < 0.08 ? [source, pick(r, SOURCES), pick(r, SOURCES)] : [source];
  const t = r();
  const detailType =
    t < 0.8
      ? [detailTypeOf(source, pick(r, VERBS))]
      : t < 0.9
        ? [detailTypeOf(source, pick(r, VERBS)), detailTypeOf(source, pick(r, VERBS))]
        : [{ prefix: detailTypeOf(source, "").trim() }];
  const detail = r() < 0.3 ? { ...detailFilter(r), ...detailFilter(r) } : detailFilter(r);
  return { source: sources, "detail-type": detailType, detail };
}

function ruleOf(pattern: unknown, i: number, enabled: boolean): CompiledRule {
  const record: RuleRecord = {
    busName: "default",
    name: `rule-${i}`,
    eventPattern: JSON.stringify(pattern),
    state: enabled ? "ENABLED" : "DISABLED",
    description: undefined,
    tags: {},
    createdAt: 0,
    modifiedAt: 0,
  };
  return compileRule(record, []);
}

/** An EventBridge envelope as PutEvents builds it, of `source` when given. */
function eventOf(r: Rand, i: number, source = pick(r, SOURCES)): Record<string, unknown> {
  const customer: Record<string, unknown> = { country: pick(r, COUNTRIES) };
  if (r() < 0.5) customer.tier = pick(r, ["gold", "silver"]);
  return {
    version: "0",
    id: `00000000-0000-0000-0000-${String(i).padStart(12, "0")}`,
    "detail-type": detailTypeOf(source, pick(r, VERBS)),
    source,
    account: "000000000000",
    time: "2025-01-01T00:00:00Z",
    region: pick(r, REGIONS),
    resources: [],
    detail: {
      id: `x-${Math.floor(r() * 10_000)}`,
      status: pick(r, STATUSES),
      amount: Math.floor(r() * 1000),
      region: pick(r, REGIONS),
      customer,
      items: Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
        sku: `${pick(r, ["A", "B", "C", "D"])}-${Math.floor(r() * 100)}`,
        qty: 1 + Math.floor(r() * 5),
      })),
    },
  };
}

interface Timed {
  /** Mean ns per event of each batch. */
  readonly batchNs: number[];
  readonly matched: number;
  readonly events: number;
}

/** Runs `match` over `events` in batches for `ms`: per batch, its mean ns per event. */
function timeFor(events: readonly unknown[], match: (e: unknown) => number, ms: number): Timed {
  const batchNs: number[] = [];
  let matched = 0;
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let at = 0; at + BATCH <= events.length; at += BATCH) {
      const t0 = process.hrtime.bigint();
      for (let k = at; k < at + BATCH; k++) matched += match(events[k]);
      batchNs.push(Number(process.hrtime.bigint() - t0) / BATCH);
      n += BATCH;
    }
  }
  return { batchNs, matched, events: n };
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export async function ruleMatching(
  ctx: BenchContext,
  o: { rules: number; events: number; durationMs: number },
): Promise<FigureResult> {
  const r = seeded(14);
  const buildStart = performance.now();
  const compiled = Array.from({ length: o.rules }, (_, i) => ruleOf(patternOf(r, i), i, r() >= 0.02));
  const indexStart = performance.now();
  const bus = new BusRules(compiled);
  const indexMs = performance.now() - indexStart;
  const buildMs = performance.now() - buildStart;
  const events = Array.from({ length: o.events }, (_, i) => eventOf(r, i));
  // The 1-rule bus: a rule of one source, and events of that source, so that each is tried against it.
  const one = new BusRules([
    ruleOf(
      {
        source: [SOURCES[0]],
        "detail-type": [{ prefix: "Order" }],
        detail: { amount: [{ numeric: [">", 500] }] },
      },
      0,
      true,
    ),
  ]);
  const oneEvents = Array.from({ length: o.events }, (_, i) => eventOf(r, i, SOURCES[0]));
  const indexed = (e: unknown) => bus.matching(e as { source?: unknown }).length;
  const naive = (e: unknown) => {
    let n = 0;
    for (const c of compiled) if (c.record.state === "ENABLED" && c.matches(e)) n++;
    return n;
  };
  const single = (e: unknown) => one.matching(e as { source?: unknown }).length;
  // The index must find what the naive loop finds.
  const byIndex = events.reduce((n: number, e) => n + indexed(e), 0);
  const byLoop = events.reduce((n: number, e) => n + naive(e), 0);
  if (byIndex !== byLoop) throw new Error(`the index matched ${byIndex} rules, the naive loop ${byLoop}`);
  // Untimed: V8 optimises the matchers first.
  timeFor(events, indexed, o.durationMs);
  timeFor(events, naive, o.durationMs / 2);
  timeFor(oneEvents, single, o.durationMs / 2);
  const runs: { index: Timed; naive: Timed; one: Timed }[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    ctx.progress(`rule matching: run ${run + 1}/${ctx.runs}`);
    runs.push({
      index: timeFor(events, indexed, o.durationMs),
      naive: timeFor(events, naive, o.durationMs),
      one: timeFor(oneEvents, single, o.durationMs),
    });
  }
  const perRun = (k: "index" | "naive" | "one") => runs.map((x) => mean(x[k].batchNs));
  const all = (k: "index" | "naive" | "one") => runs.flatMap((x) => x[k].batchNs);
  const us = (ns: number) => (ns < 10_000 ? (ns / 1000).toFixed(2) : fmtInt(ns / 1000));
  const index = { median: medianOfFew(perRun("index")), p99: percentile(all("index"), 99) };
  const loop = { median: medianOfFew(perRun("naive")), p99: percentile(all("naive"), 99) };
  const single1 = { median: medianOfFew(perRun("one")), p99: percentile(all("one"), 99) };
  const pass = index.median <= TARGET_US * 1000;
  const matchedPerEvent = byIndex / events.length;
  const anySource = compiled.filter((c) => !("source" in JSON.parse(c.record.eventPattern))).length;
  return {
    name: "rule matching",
    line:
      `${fmtInt(o.rules)} rules: ${us(index.median)} µs/event (p99 of ${BATCH}-event batches ${us(index.p99)} µs) | ` +
      `1 rule ${us(single1.median)} µs (p99 ${us(single1.p99)}) ${fmtRatio(index.median / single1.median)} | ` +
      `naive loop over ${fmtInt(o.rules)} ${us(loop.median)} µs (p99 ${us(loop.p99)}) ${fmtRatio(index.median / loop.median)} ` +
      `(target ≤${TARGET_US} µs) ${verdict(pass)}`,
    notes: [
      `in process, BusRules.matching on ${fmtInt(o.events)} envelopes: ${matchedPerEvent.toFixed(1)} rules matched per event on average; ` +
        `${SOURCES.length} sources, ${anySource} rules name no source (tried for every event)`,
      `compiling ${fmtInt(o.rules)} rules and indexing them: ${fmtMs(buildMs)} ms, what a bus pays once at start; ` +
        `the index alone, from rules compiled: ${fmtMs(indexMs)} ms, what a PutRule or PutTargets redoes ` +
        "(beside one rule's store reads and compile)",
    ],
    pass,
    data: {
      rules: o.rules,
      nsPerEvent: { index: perRun("index"), naive: perRun("naive"), oneRule: perRun("one") },
      p99Ns: { index: index.p99, naive: loop.p99, oneRule: single1.p99 },
      matchedPerEvent,
      buildMs,
      indexMs,
    },
    headline: { nsPerEvent: index.median, p99Ns: index.p99, oneRuleNs: single1.median, naiveNs: loop.median },
  };
}
