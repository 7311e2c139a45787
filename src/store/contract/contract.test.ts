/**
 * Every repository contract, run against every store: what SQLite does, PostgreSQL must do
 * too. PostgreSQL is not optional here: unreachable, its half fails and says how to start it.
 */
import { after, describe } from "node:test";
import { apiDestinationsContract } from "./api-destinations.contract.js";
import { authContract } from "./auth.contract.js";
import { authRecordsContract } from "./auth-records.contract.js";
import { budgetsContract } from "./budgets.contract.js";
import { eventConfigsContract } from "./event-configs.contract.js";
import { eventsContract } from "./events.contract.js";
import { eventsArchivesContract } from "./events-archives.contract.js";
import { functionUrlsContract } from "./function-urls.contract.js";
import { functionsContract } from "./functions.contract.js";
import { httpApisContract } from "./http-apis.contract.js";
import { logsContract } from "./logs.contract.js";
import { mappingsContract } from "./mappings.contract.js";
import { provisionedContract } from "./provisioned.contract.js";
import { queueContract } from "./queue.contract.js";
import { queueRecordsContract } from "./queue-records.contract.js";
import { queuesContract } from "./queues.contract.js";
import { queuesFifoContract } from "./queues-fifo.contract.js";
import { schedulesContract } from "./schedules.contract.js";
import { storageContract } from "./storage.contract.js";
import { storageListingContract } from "./storage-listing.contract.js";
import { storageQuotaContract } from "./storage-quota.contract.js";
import { storageUploadsContract } from "./storage-uploads.contract.js";
import { type OpenedStore, openPostgres, openSqlite, queueOf, repoOf } from "./stores.js";
import { TestPostgres } from "./test-postgres.js";
import { usageContract } from "./usage.contract.js";

const postgres = new TestPostgres(process.env.NIMBUS_TEST_POSTGRES_URL);
after(() => postgres.close());

const STORES: ReadonlyArray<readonly [string, () => Promise<OpenedStore>]> = [
  ["sqlite", openSqlite],
  ["postgres", () => openPostgres(postgres)],
];

for (const [name, open] of STORES) {
  describe(name, () => {
    describe("functions", () => functionsContract(repoOf(open, (s) => s.functions)));
    describe("event invoke configs", () => eventConfigsContract(repoOf(open, (s) => s.eventConfigs)));
    describe("function URLs", () => functionUrlsContract(repoOf(open, (s) => s.functionUrls)));
    describe("HTTP APIs", () => httpApisContract(repoOf(open, (s) => s.httpApis)));
    describe("queues", () => queuesContract(repoOf(open, (s) => s.queues)));
    describe("FIFO and dead-letter queues", () => queuesFifoContract(repoOf(open, (s) => s.queues)));
    describe("event source mappings", () => mappingsContract(repoOf(open, (s) => s.mappings)));
    describe("event buses, rules and targets", () => eventsContract(repoOf(open, (s) => s.events)));
    describe("event archives and replays", () => eventsArchivesContract(repoOf(open, (s) => s.events)));
    describe("API destinations", () => apiDestinationsContract(repoOf(open, (s) => s.apiDestinations)));
    describe("schedules", () => schedulesContract(repoOf(open, (s) => s.schedules)));
    describe("auth", () => authContract(repoOf(open, (s) => s.auth)));
    describe("auth records", () => authRecordsContract(repoOf(open, (s) => s.auth)));
    describe("object storage", () => storageContract(repoOf(open, (s) => s.storage)));
    describe("object storage listings", () => storageListingContract(repoOf(open, (s) => s.storage)));
    describe("object storage multipart uploads", () =>
      storageUploadsContract(repoOf(open, (s) => s.storage)));
    describe("object storage quotas", () => storageQuotaContract(repoOf(open, (s) => s.storage)));
    describe("provisioned concurrency", () => provisionedContract(repoOf(open, (s) => s.provisioned)));
    describe("budgets", () => budgetsContract(repoOf(open, (s) => s.budgets)));
    describe("event queue", () => queueContract(queueOf(open)));
    describe("invocation records", () => queueRecordsContract(queueOf(open)));
    describe("logs", () => logsContract(repoOf(open, (s) => s.logs)));
    describe("usage", () => usageContract(repoOf(open, (s) => ({ logs: s.logs, usage: s.usage }))));
  });
}
