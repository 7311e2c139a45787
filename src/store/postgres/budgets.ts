/** Monthly spending caps in PostgreSQL (`BudgetsRepo`). */
import type { Budget, BudgetsRepo } from "../../control/usage-repo.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/** No reference to `functions`: a function's budget is kept when the function is deleted, as in SQLite. */
export const BUDGETS_MIGRATIONS: ModuleMigrations = {
  module: "budgets",
  steps: [
    `CREATE TABLE budgets (
       scope text COLLATE "C" PRIMARY KEY,
       monthly_usd double precision NOT NULL,
       updated_at bigint NOT NULL
     );`,
  ],
};

export class PostgresBudgetsRepo implements BudgetsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async listBudgets(): Promise<Budget[]> {
    const rows = await this.#sql<{ scope: string; monthly_usd: number; updated_at: number }[]>`
      SELECT scope, monthly_usd, updated_at FROM budgets ORDER BY scope`;
    return rows.map((r) => ({ scope: r.scope, monthlyUsd: r.monthly_usd, updatedAt: r.updated_at }));
  }

  async putBudget(b: Budget): Promise<void> {
    await this.#sql`INSERT INTO budgets (scope, monthly_usd, updated_at)
      VALUES (${b.scope}, ${b.monthlyUsd}, ${b.updatedAt})
      ON CONFLICT (scope) DO UPDATE SET monthly_usd = excluded.monthly_usd, updated_at = excluded.updated_at`;
  }

  async deleteBudget(scope: string): Promise<boolean> {
    return (await this.#sql`DELETE FROM budgets WHERE scope = ${scope}`).count === 1;
  }
}
