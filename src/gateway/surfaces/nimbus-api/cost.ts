/**
 * Nimbus's cost API: aggregated usage and its cost (`GET /nimbus/v1/usage`), and monthly
 * budgets per function and for the platform (`/nimbus/v1/budgets`).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { type Budgets, type BudgetView, monthStart, PLATFORM_SCOPE } from "../../../control/budgets.js";
import type { Registry } from "../../../control/registry/registry.js";
import type { ReportGrouping, UsageReport } from "../../../control/usage-report.js";
import { NimbusError } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { type BodyLimitRule, bodyOf, type SurfaceEnv } from "../../surface.js";
import { optionalTime } from "./routes.js";

const GROUPINGS: readonly ReportGrouping[] = ["function", "version", "day"];
/** A budget body is a few bytes: anything much larger is not one. */
const MAX_BUDGET_BODY = 1024;

/** The limit of a budget's body, which the gateway reads before authenticating its request. */
export const BUDGET_BODY_LIMIT: BodyLimitRule = {
  method: "PUT",
  path: /^\/nimbus\/v1\/budgets\//,
  limit: { bytes: MAX_BUDGET_BODY, tooLarge: `a budget body is at most ${MAX_BUDGET_BODY} bytes` },
};

export interface CostApiDeps {
  readonly registry: Pick<Registry, "resolve">;
  readonly usage: (q: {
    functionName: string | undefined;
    from: number;
    to: number;
    groupBy: ReportGrouping;
  }) => Promise<UsageReport>;
  readonly budgets: Budgets;
  readonly now: () => number;
}

export function costApi(d: CostApiDeps): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();

  app.get("/nimbus/v1/usage", async (c) => {
    const now = d.now();
    const groupBy = (c.req.query("groupBy") || "function") as ReportGrouping;
    if (!GROUPINGS.includes(groupBy))
      throw new NimbusError(
        "InvalidParameter",
        `groupBy must be one of ${GROUPINGS.join(", ")}, got ${JSON.stringify(c.req.query("groupBy"))}`,
      );
    const from = optionalTime(c.req.query("from"), "from") ?? monthStart(now);
    // Up to now inclusive: an invocation that started this millisecond counts.
    const to = optionalTime(c.req.query("to"), "to") ?? now + 1;
    if (to <= from)
      throw new NimbusError(
        "InvalidParameter",
        `to must be after from: from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()}`,
      );
    const report = await d.usage({ functionName: c.req.query("function") || undefined, from, to, groupBy });
    return c.json({
      ...report,
      from: new Date(report.from).toISOString(),
      to: new Date(report.to).toISOString(),
    });
  });

  app.get("/nimbus/v1/budgets", async (c) => {
    return c.json({ budgets: d.budgets.list().map(wire) });
  });

  const put = async (c: Context<SurfaceEnv>, scope: string) => {
    const monthlyUsd = parseJsonObject(bodyOf(c)).monthlyUsd;
    if (typeof monthlyUsd !== "number")
      throw new NimbusError(
        "InvalidParameter",
        `monthlyUsd must be a number of US dollars, e.g. {"monthlyUsd": 5.00}; got ${JSON.stringify(monthlyUsd)}`,
      );
    return c.json(wire(await d.budgets.set(scope, monthlyUsd)));
  };
  const remove = async (c: Context, scope: string) => {
    if (!(await d.budgets.remove(scope)))
      throw new NimbusError("NotFound", `no budget for ${describe(scope)}`);
    return c.body(null, 204);
  };
  const exists = async (name: string) => {
    await d.registry.resolve(name, undefined);
    return name;
  };

  app.put("/nimbus/v1/budgets/platform", (c) => put(c, PLATFORM_SCOPE));
  app.delete("/nimbus/v1/budgets/platform", (c) => remove(c, PLATFORM_SCOPE));
  app.put("/nimbus/v1/budgets/functions/:name", async (c) => put(c, await exists(c.req.param("name"))));
  // A deleted function's budget can still be removed.
  app.delete("/nimbus/v1/budgets/functions/:name", (c) => remove(c, c.req.param("name")));
  return app;
}

function describe(scope: string): string {
  return scope === PLATFORM_SCOPE ? "the platform" : `function ${scope}`;
}

function wire(b: BudgetView) {
  return {
    scope: b.scope === PLATFORM_SCOPE ? "platform" : "function",
    ...(b.scope === PLATFORM_SCOPE ? {} : { function: b.scope }),
    monthlyUsd: b.monthlyUsd,
    spentUsd: b.spentUsd,
    exceeded: b.exceeded,
  };
}
