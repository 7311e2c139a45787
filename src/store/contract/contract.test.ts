/** Every repository contract, run against every store. */
import { describe } from "node:test";
import { budgetsContract } from "./budgets.contract.js";
import { eventConfigsContract } from "./event-configs.contract.js";
import { functionsContract } from "./functions.contract.js";
import { provisionedContract } from "./provisioned.contract.js";
import { type OpenedStore, openSqlite, repoOf } from "./stores.js";

const STORES: ReadonlyArray<readonly [string, () => Promise<OpenedStore>]> = [["sqlite", openSqlite]];

for (const [name, open] of STORES) {
  describe(name, () => {
    describe("functions", () => functionsContract(repoOf(open, (s) => s.functions)));
    describe("event invoke configs", () => eventConfigsContract(repoOf(open, (s) => s.eventConfigs)));
    describe("provisioned concurrency", () => provisionedContract(repoOf(open, (s) => s.provisioned)));
    describe("budgets", () => budgetsContract(repoOf(open, (s) => s.budgets)));
  });
}
