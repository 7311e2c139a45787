/**
 * Monthly budgets: a spending cap per function and one for the whole platform (scope "*").
 * Spend is this calendar month's (UTC) cost at the platform's prices: invocations as they are
 * metered, provisioned instances' up-time as it accrues. Past a budget, invocations are refused
 * with 402 BudgetExceededException naming it; async events wait in the queue (see the poller).
 *
 * Spend lives in memory, loaded from the stored usage at start, so the check on every
 * invocation is two map lookups. The free tier is not deducted: it is the platform's, and a
 * budget caps what a function could cost.
 */
import { NimbusError } from "../shared/errors.js";
import type { ProvisionedRepo, ProvisionedSpan } from "./provisioned-repo.js";
import { costOf, type Pricing, recordCost, spanGbSeconds } from "./usage.js";
import type { Budget, BudgetsRepo, UsageRecord, UsageRepo } from "./usage-repo.js";

/** The scope of the platform-wide budget. */
export const PLATFORM_SCOPE = "*";
/** Running provisioned instances' up-time is recomputed at most this often. */
const RUNNING_REFRESH_MS = 1000;

export interface BudgetView extends Omit<Budget, "updatedAt"> {
  /** Spent this month, USD. */
  readonly spentUsd: number;
  readonly exceeded: boolean;
}

export class Budgets {
  readonly #store: BudgetsRepo;
  readonly #usage: Pick<UsageRepo, "queryUsage">;
  readonly #provisioned: Pick<ProvisionedRepo, "provisionedSpans">;
  readonly #pricing: Pricing;
  readonly #now: () => number;
  /** Provisioned instances still running, every function. */
  readonly #running: () => readonly ProvisionedSpan[];
  readonly #budgets = new Map<string, number>();
  /** This month's spend per function, without running provisioned instances. */
  #spent = new Map<string, number>();
  #total = 0;
  /** This month, [start, end) in epoch ms. */
  #monthStarts = 0;
  #monthEnds = 0;
  readonly #metered: boolean;
  #runningCache: { at: number; byFunction: Map<string, number>; total: number } | undefined;

  constructor(deps: {
    store: BudgetsRepo;
    /** This month's spend so far, read once at load. */
    usage: Pick<UsageRepo, "queryUsage">;
    provisioned: Pick<ProvisionedRepo, "provisionedSpans">;
    pricing: Pricing;
    now: () => number;
    running: () => readonly ProvisionedSpan[];
    /** False when the platform keeps no usage records: budgets cannot be set. */
    metered?: boolean;
  }) {
    this.#metered = deps.metered ?? true;
    this.#store = deps.store;
    this.#usage = deps.usage;
    this.#provisioned = deps.provisioned;
    this.#pricing = deps.pricing;
    this.#now = deps.now;
    this.#running = deps.running;
  }

  /** Loads the budgets and this month's spend so far. */
  async load(): Promise<void> {
    for (const b of await this.#store.listBudgets()) this.#budgets.set(b.scope, b.monthlyUsd);
    await this.#startMonth();
  }

  /** Adds a metered invocation's cost. */
  spend(r: UsageRecord): void {
    this.#rollover();
    this.#add(r.functionName, recordCost(r, this.#pricing));
  }

  /** Adds a stopped provisioned instance's up-time (its part in this month). */
  spanEnded(span: ProvisionedSpan): void {
    this.#rollover();
    this.#add(span.functionName, this.#spanCost(span, monthStart(this.#now()), this.#now()));
  }

  /** Throws BudgetExceeded when the function's or the platform's budget is spent. */
  check(functionName: string): void {
    const err = this.refusal(functionName);
    if (err) throw err;
  }

  /** The BudgetExceeded error `check` would throw now, or undefined. */
  refusal(functionName: string): NimbusError | undefined {
    if (this.#budgets.size === 0) return undefined;
    const own = this.#budgets.get(functionName);
    const all = this.#budgets.get(PLATFORM_SCOPE);
    if (own === undefined && all === undefined) return undefined;
    this.#rollover();
    const running = this.#runningCosts();
    if (own !== undefined) {
      const spent = (this.#spent.get(functionName) ?? 0) + (running.byFunction.get(functionName) ?? 0);
      if (spent >= own) return exceeded(`function ${functionName}'s monthly budget of ${usd(own)}`, spent);
    }
    if (all !== undefined) {
      const spent = this.#total + running.total;
      if (spent >= all) return exceeded(`the platform's monthly budget of ${usd(all)}`, spent);
    }
    return undefined;
  }

  async set(scope: string, monthlyUsd: number): Promise<BudgetView> {
    if (!this.#metered)
      throw new NimbusError(
        "InvalidParameter",
        "budgets need usage records, and metering is off on this platform (NIMBUS_METERING=false)",
      );
    if (!Number.isFinite(monthlyUsd) || monthlyUsd < 0 || monthlyUsd > 1e9)
      throw new NimbusError(
        "InvalidParameter",
        `monthlyUsd must be a number of US dollars from 0 to 1000000000, got ${JSON.stringify(monthlyUsd)}`,
      );
    await this.#store.putBudget({ scope, monthlyUsd, updatedAt: this.#now() });
    this.#budgets.set(scope, monthlyUsd);
    return this.view(scope)!;
  }

  async remove(scope: string): Promise<boolean> {
    this.#budgets.delete(scope);
    return this.#store.deleteBudget(scope);
  }

  /** A budget with this month's spend, or undefined when the scope has none. */
  view(scope: string): BudgetView | undefined {
    const monthlyUsd = this.#budgets.get(scope);
    if (monthlyUsd === undefined) return undefined;
    this.#rollover();
    const running = this.#runningCosts();
    const spentUsd =
      scope === PLATFORM_SCOPE
        ? this.#total + running.total
        : (this.#spent.get(scope) ?? 0) + (running.byFunction.get(scope) ?? 0);
    return { scope, monthlyUsd, spentUsd, exceeded: spentUsd >= monthlyUsd };
  }

  list(): BudgetView[] {
    return [...this.#budgets.keys()].sort().map((scope) => this.view(scope)!);
  }

  #add(functionName: string, cost: number): void {
    this.#spent.set(functionName, (this.#spent.get(functionName) ?? 0) + cost);
    this.#total += cost;
  }

  /** A new month starts from nothing spent (the spans of the old one end as they end). */
  #rollover(): void {
    const now = this.#now();
    if (now < this.#monthEnds && now >= this.#monthStarts) return;
    this.#setMonth(now);
    this.#spent = new Map();
    this.#total = 0;
  }

  #setMonth(now: number): void {
    this.#monthStarts = monthStart(now);
    const d = new Date(this.#monthStarts);
    this.#monthEnds = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }

  async #startMonth(): Promise<void> {
    const now = this.#now();
    const from = monthStart(now);
    this.#setMonth(now);
    const [sums, spans] = await Promise.all([
      this.#usage.queryUsage({ from, to: now + 1, groupBy: "function" }),
      this.#provisioned.provisionedSpans(undefined, from, now + 1),
    ]);
    this.#spent = new Map();
    this.#total = 0;
    for (const s of sums) this.#add(s.key, costOf({ ...s, provisionedGbSeconds: 0 }, this.#pricing).total);
    for (const span of spans) this.#add(span.functionName, this.#spanCost(span, from, now));
  }

  #spanCost(span: ProvisionedSpan, from: number, to: number): number {
    return spanGbSeconds(span, from, to) * this.#pricing.provisionedGbSecond;
  }

  #runningCosts(): { byFunction: Map<string, number>; total: number } {
    const now = this.#now();
    if (this.#runningCache && now - this.#runningCache.at < RUNNING_REFRESH_MS) return this.#runningCache;
    const from = monthStart(now);
    const byFunction = new Map<string, number>();
    let total = 0;
    for (const span of this.#running()) {
      const cost = this.#spanCost(span, from, now);
      byFunction.set(span.functionName, (byFunction.get(span.functionName) ?? 0) + cost);
      total += cost;
    }
    this.#runningCache = { at: now, byFunction, total };
    return this.#runningCache;
  }
}

function exceeded(what: string, spent: number): NimbusError {
  return new NimbusError(
    "BudgetExceeded",
    `Invocation refused: ${what} is spent (${usd(spent)} this month). Raise or remove the budget (nimbus budget) or wait for the next month (UTC).`,
  );
}

function usd(n: number): string {
  return `USD ${n.toFixed(n < 1 ? 4 : 2)}`;
}

/** The start of the UTC calendar month of `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
