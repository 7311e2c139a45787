/** What budgets rely on from every store. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BudgetsRepo } from "../../control/usage-repo.js";
import { type OpenRepo, T0_MS, version, withRepo } from "./harness.js";

export function budgetsContract(open: OpenRepo<BudgetsRepo>): void {
  test("budgets are put, listed by scope with the platform's first, replaced and deleted", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listBudgets(), []);
      await repo.putBudget({ scope: "resize", monthlyUsd: 12.34, updatedAt: T0_MS });
      await repo.putBudget({ scope: "*", monthlyUsd: 100, updatedAt: T0_MS });
      await repo.putBudget({ scope: "Api", monthlyUsd: 0.005, updatedAt: T0_MS });
      await repo.putBudget({ scope: "resize", monthlyUsd: 20.5, updatedAt: T0_MS + 1 });
      assert.deepEqual(await repo.listBudgets(), [
        { scope: "*", monthlyUsd: 100, updatedAt: T0_MS },
        { scope: "Api", monthlyUsd: 0.005, updatedAt: T0_MS },
        { scope: "resize", monthlyUsd: 20.5, updatedAt: T0_MS + 1 },
      ]);
      assert.equal(await repo.deleteBudget("resize"), true);
      assert.equal(await repo.deleteBudget("resize"), false, "a second delete finds nothing");
      assert.deepEqual(
        (await repo.listBudgets()).map((b) => b.scope),
        ["*", "Api"],
      );
    }));

  test("a budget needs no function: it may name one not deployed yet, and outlives a deleted one", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.putBudget({ scope: "fn", monthlyUsd: 5, updatedAt: T0_MS });
      await repo.putBudget({ scope: "later", monthlyUsd: 1, updatedAt: T0_MS });
      await functions.deleteFunction("fn");
      assert.deepEqual(
        (await repo.listBudgets()).map((b) => b.scope),
        ["fn", "later"],
      );
    }));
}
