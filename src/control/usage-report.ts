/**
 * Aggregated usage and its cost over a window (`GET /nimbus/v1/usage`, `nimbus cost`):
 * invocation records summed by the store, provisioned instances' up-time from their spans
 * (cut to the window, and to each day when grouped by day), priced, with the monthly free
 * tier deducted from the total when the pricing says so.
 */
import type { ProvisionedSpan } from "./provisioned-repo.js";
import { type Cost, costOf, FREE_TIER, type Pricing, spanGbSeconds } from "./usage.js";
import type { UsageGrouping, UsageRecord, UsageRepo, UsageSums } from "./usage-repo.js";

export type ReportGrouping = Exclude<UsageGrouping, "month">;

export interface UsageRow extends Omit<UsageSums, "key"> {
  readonly function?: string;
  readonly version?: string;
  readonly day?: string;
  /** GB-seconds provisioned instances were up (busy or idle). */
  readonly provisionedGbSeconds: number;
  readonly cost: Cost;
}

export interface UsageReport {
  readonly from: number;
  readonly to: number;
  readonly groupBy: ReportGrouping;
  readonly currency: "USD";
  readonly pricing: Pricing;
  readonly rows: readonly UsageRow[];
  readonly total: Omit<UsageRow, "function" | "version" | "day"> & {
    /**
     * The free tier deducted from `cost.total`, per calendar month of the window: when the
     * pricing has it and the report covers every function (it is the platform's, not a function's).
     */
    readonly freeTier: {
      readonly requests: number;
      readonly gbSeconds: number;
      readonly credit: number;
    } | null;
  };
}

const DAY_MS = 86_400_000;

export async function usageReport(
  deps: {
    store: Pick<UsageRepo, "queryUsage">;
    /** Provisioned spans overlapping the window, ended and still running. */
    spans: (functionName: string | undefined, from: number, to: number) => Promise<ProvisionedSpan[]>;
    pricing: Pricing;
  },
  q: { functionName?: string | undefined; from: number; to: number; groupBy: ReportGrouping },
): Promise<UsageReport> {
  // The free tier is the whole platform's: deducted only from a report of every function.
  const freeTier = deps.pricing.freeTier && q.functionName === undefined;
  const [sums, spans, months] = await Promise.all([
    deps.store.queryUsage(q),
    deps.spans(q.functionName, q.from, q.to),
    freeTier ? deps.store.queryUsage({ ...q, groupBy: "month" }) : Promise.resolve([]),
  ]);
  const up = new Map<string, number>();
  for (const s of spans)
    for (const [key, gbs] of spanShares(s, q.groupBy, q.from, q.to)) up.set(key, (up.get(key) ?? 0) + gbs);
  const byKey = new Map<string, UsageSums>(sums.map((s) => [s.key, s]));
  const keys = [...new Set([...byKey.keys(), ...up.keys()])].sort();
  const rows = keys.map((key) => row(key, q.groupBy, byKey.get(key), up.get(key) ?? 0, deps.pricing));
  const total = sumRows(rows, deps.pricing);
  const credit = freeTier ? freeTierCredit(months, deps.pricing) : null;
  return {
    from: q.from,
    to: q.to,
    groupBy: q.groupBy,
    currency: "USD",
    pricing: deps.pricing,
    rows,
    total: {
      ...total,
      cost: { ...total.cost, total: Math.max(0, total.cost.total - (credit?.credit ?? 0)) },
      freeTier: credit,
    },
  };
}

function labels(key: string, groupBy: ReportGrouping): Pick<UsageRow, "function" | "version" | "day"> {
  if (groupBy === "function") return { function: key };
  if (groupBy === "day") return { day: key };
  const [fn = "", version = ""] = key.split("\u0000");
  return { function: fn, version };
}

function row(
  key: string,
  groupBy: ReportGrouping,
  s: UsageSums | undefined,
  upGbs: number,
  p: Pricing,
): UsageRow {
  const requests = s?.requests ?? 0;
  const gbs = s?.gbSeconds ?? 0;
  const provDuration = s?.provisionedDurationGbSeconds ?? 0;
  return {
    ...labels(key, groupBy),
    requests,
    errors: s?.errors ?? 0,
    coldStarts: s?.coldStarts ?? 0,
    durationMs: s?.durationMs ?? 0,
    billedMs: s?.billedMs ?? 0,
    gbSeconds: gbs,
    provisionedDurationGbSeconds: provDuration,
    provisionedGbSeconds: upGbs,
    cost: costOf(
      { requests, gbSeconds: gbs, provisionedDurationGbSeconds: provDuration, provisionedGbSeconds: upGbs },
      p,
    ),
  };
}

function sumRows(rows: readonly UsageRow[], p: Pricing): Omit<UsageRow, "function" | "version" | "day"> {
  const t = { requests: 0, errors: 0, coldStarts: 0, durationMs: 0, billedMs: 0, gbs: 0, prov: 0, up: 0 };
  for (const r of rows) {
    t.requests += r.requests;
    t.errors += r.errors;
    t.coldStarts += r.coldStarts;
    t.durationMs += r.durationMs;
    t.billedMs += r.billedMs;
    t.gbs += r.gbSeconds;
    t.prov += r.provisionedDurationGbSeconds;
    t.up += r.provisionedGbSeconds;
  }
  return {
    requests: t.requests,
    errors: t.errors,
    coldStarts: t.coldStarts,
    durationMs: t.durationMs,
    billedMs: t.billedMs,
    gbSeconds: t.gbs,
    provisionedDurationGbSeconds: t.prov,
    provisionedGbSeconds: t.up,
    cost: costOf(
      {
        requests: t.requests,
        gbSeconds: t.gbs,
        provisionedDurationGbSeconds: t.prov,
        provisionedGbSeconds: t.up,
      },
      p,
    ),
  };
}

/** Each calendar month's allowance against that month's requests and on-demand GB-seconds. */
function freeTierCredit(
  months: readonly UsageSums[],
  p: Pricing,
): { requests: number; gbSeconds: number; credit: number } {
  let requests = 0;
  let gbs = 0;
  for (const m of months) {
    requests += Math.min(FREE_TIER.requests, m.requests);
    gbs += Math.min(FREE_TIER.gbSeconds, m.gbSeconds);
  }
  return { requests, gbSeconds: gbs, credit: requests * p.request + gbs * p.gbSecond };
}

/** A span's GB-seconds inside [from, to), keyed as the report groups them (split by UTC day). */
function spanShares(
  s: ProvisionedSpan,
  groupBy: ReportGrouping,
  from: number,
  to: number,
): Array<[string, number]> {
  const all = spanGbSeconds(s, from, to);
  if (all === 0) return [];
  if (groupBy === "function") return [[s.functionName, all]];
  if (groupBy === "version") return [[`${s.functionName}\u0000${s.version}`, all]];
  const out: Array<[string, number]> = [];
  const end = Math.min(s.stoppedAt ?? to, to);
  for (let day = Math.floor(Math.max(s.startedAt, from) / DAY_MS) * DAY_MS; day < end; day += DAY_MS)
    out.push([
      new Date(day).toISOString().slice(0, 10),
      spanGbSeconds(s, Math.max(from, day), Math.min(to, day + DAY_MS)),
    ]);
  return out;
}

/**
 * The usage reads the gateway serves. Usage records are stored with the log's batches, so what
 * the log holds is stored first: a record asked for right after its invocation is there, and a
 * report includes the last calls.
 */
export class UsageQueries {
  readonly #logs: { flush(): Promise<void> };
  readonly #usage: Pick<UsageRepo, "queryUsage" | "usageOf">;
  readonly #spans: (functionName: string | undefined, from: number, to: number) => Promise<ProvisionedSpan[]>;
  readonly #pricing: Pricing;

  constructor(deps: {
    logs: { flush(): Promise<void> };
    usage: Pick<UsageRepo, "queryUsage" | "usageOf">;
    spans: (functionName: string | undefined, from: number, to: number) => Promise<ProvisionedSpan[]>;
    pricing: Pricing;
  }) {
    this.#logs = deps.logs;
    this.#usage = deps.usage;
    this.#spans = deps.spans;
    this.#pricing = deps.pricing;
  }

  /** The usage records (runs) of a request id. */
  async runs(requestId: string): Promise<UsageRecord[]> {
    await this.#logs.flush();
    return this.#usage.usageOf(requestId);
  }

  async report(q: Parameters<typeof usageReport>[1]): Promise<UsageReport> {
    await this.#logs.flush();
    return usageReport({ store: this.#usage, spans: this.#spans, pricing: this.#pricing }, q);
  }
}
