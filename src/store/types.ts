/**
 * What one store implements: every module's repository, over one database. Each module depends
 * only on its own interface (`control/registry/repo.ts`, `control/logs-repo.ts`, a service's
 * `services/http-apis/repo.ts`, …); the composition root hands the same store to each.
 * Asynchronous, so that PostgreSQL fits too.
 */
import type { EventConfigsRepo } from "../control/async/event-configs-repo.js";
import type { LogsRepo } from "../control/logs-repo.js";
import type { ProvisionedRepo } from "../control/provisioned-repo.js";
import type { FunctionsRepo } from "../control/registry/repo.js";
import type { EventSourceMappingsRepo } from "../control/triggers/mappings/repo.js";
import type { FunctionUrlsRepo } from "../control/urls/repo.js";
import type { BudgetsRepo, UsageRepo } from "../control/usage-repo.js";
import type { ApiDestinationsRepo, EventsRepo } from "../services/events/repo.js";
import type { HttpApisRepo } from "../services/http-apis/repo.js";
import type { QueuesRepo } from "../services/queues/repo.js";

export interface MetadataStore
  extends FunctionsRepo,
    EventConfigsRepo,
    FunctionUrlsRepo,
    HttpApisRepo,
    QueuesRepo,
    EventSourceMappingsRepo,
    EventsRepo,
    ApiDestinationsRepo,
    ProvisionedRepo,
    LogsRepo,
    UsageRepo,
    BudgetsRepo {
  close(): Promise<void>;
}
