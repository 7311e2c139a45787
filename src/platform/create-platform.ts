/**
 * The composition root: the only place where the subsystems are wired together. It is a list
 * of components added to a lifecycle in dependency order (each started as it is added);
 * closing stops them in reverse. The policies that join subsystems live in the module that
 * owns them (snapshot on publish in the worker, sync records in the invoke service,
 * provisioned up-time in control, usage reads after a log flush in the usage report), so
 * this file only chooses and connects. Where state lives is the backends' choice
 * (`backends.ts`: SQLite in the data directory, or PostgreSQL).
 */
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";
import { AsyncInvoker, DEFAULT_ASYNC_SETTINGS } from "../control/async/async-invoker.js";
import { EventConfigs } from "../control/async/event-configs.js";
import { Budgets } from "../control/budgets.js";
import { CodeStore } from "../control/code-store.js";
import { CodeUrls } from "../control/code-urls.js";
import { Dispatcher } from "../control/dispatcher.js";
import { InvokeService } from "../control/invoke-service.js";
import { HybridHistogramKeepAlive } from "../control/keep-alive.js";
import { LogService } from "../control/logs.js";
import { PlatformMetrics } from "../control/metrics.js";
import { OtlpTraces } from "../control/otlp.js";
import { LocalPlacement } from "../control/placement/local.js";
import { ProvisionedConcurrency } from "../control/provisioned.js";
import { ProvisionedUptime } from "../control/provisioned-uptime.js";
import { RegistryChanges } from "../control/registry/changes.js";
import { Registry } from "../control/registry/registry.js";
import { EventSourceMappings } from "../control/triggers/mappings/mappings.js";
import { MappingPoller } from "../control/triggers/mappings/poller.js";
import { eventSources, sourceContext, startSources, stopSources } from "../control/triggers/sources.js";
import { FunctionUrls } from "../control/urls/function-urls.js";
import { type Pricing, UsageMeter } from "../control/usage.js";
import { UsageQueries } from "../control/usage-report.js";
import { createGateway } from "../gateway/app.js";
import { type Credentials, createAuthenticator } from "../gateway/auth/principal.js";
import { LAMBDA_NAMES } from "../gateway/surfaces/lambda-api/errors.js";
import { functionArn } from "../protocol/function.js";
import type { EventBus } from "../services/events/events.js";
import { HttpApis } from "../services/http-apis/http-apis.js";
import { withQueueCache } from "../services/queues/queue-cache.js";
import { QueuesService } from "../services/queues/queues.js";
import { type Clock, systemClock } from "../shared/clock.js";
import type { Config } from "../shared/config.js";
import { LocalFanOut } from "../shared/fanout-local.js";
import { createLogger, type Logger } from "../shared/logger.js";
import { snapStartStatus, snapshotOnPublish } from "../worker/snapshot-builds.js";
import { Worker } from "../worker/worker.js";
import { openWorkerRoot } from "../worker/worker-root.js";
import { wireAuth } from "./auth.js";
import { type Backends, openBackends } from "./backends.js";
import { loadCredentials } from "./credentials.js";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.js";
import { wireEventBus } from "./events.js";
import { HttpServer } from "./http-server.js";
import { Lifecycle } from "./lifecycle.js";
import { ENDPOINT_FILE, makePrivate } from "./private-data.js";
import { chooseDriver } from "./sandbox-choice.js";
import { functionExists, targetExists, wireSchedules } from "./schedules.js";
import { wireStorage } from "./storage.js";

export interface PlatformDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Environment for credentials (NIMBUS_ACCESS_KEY_ID / NIMBUS_SECRET_ACCESS_KEY). */
  readonly env?: Record<string, string | undefined>;
}

export interface Platform {
  readonly config: Config;
  readonly credentials: Credentials;
  readonly credentialsSource: "environment" | "file" | "generated";
  readonly app: Hono;
  readonly dispatcher: Dispatcher;
  readonly logs: LogService;
  readonly worker: Worker;
  /** The event bus: its deliveries to API destinations are what tests wait for. */
  readonly events: EventBus;
  /** Starts the HTTP server; resolves with the URL it listens on. */
  listen(): Promise<string>;
  url(): string;
  /** Stops accepting requests, lets running invocations finish, stops every instance, closes the store. */
  close(): Promise<void>;
  /** Kills every instance synchronously: the last thing a process that must exit now does. */
  abort(): void;
}

/** The Node runtime shipped with this build: one CommonJS bundle (scripts/build-runtime.js). */
const NODE_BOOTSTRAP = fileURLToPath(new URL("../../runtime/node/bootstrap.cjs", import.meta.url));

export async function createPlatform(config: Config, deps: PlatformDeps = {}): Promise<Platform> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const dataDir = resolve(config.dataDir);
  const life = new Lifecycle(logger);

  // Every function's environment, logs and code live here: private, whatever the umask.
  for (const problem of await makePrivate(dataDir)) logger.warn(problem);
  // Before anything reads or runs what the directory holds: its queue, its logs, its instances.
  let lock: DataDirLock | undefined;
  await life.add({
    name: "data directory lock",
    start: () => {
      lock = lockDataDir(dataDir);
    },
    stop: () => lock?.release(),
  });
  const { credentials, source } = await loadCredentials(dataDir, deps.env ?? {});

  let backends: Backends | undefined;
  await life.add({
    name: "store",
    start: async () => {
      backends = await openBackends(config.store, dataDir);
      logger.info(`state: ${backends.description}`);
    },
    // Events still running were cut: they stay claimed and run again at the next start.
    stop: () => backends?.close(),
  });
  const { repos, queue } = backends!;

  const code = new CodeStore(join(dataDir, "packages"));
  await life.add({ name: "code store", start: () => code.open() });
  const wiring = { repos, clock, config, logger };
  const objects = await wireStorage(life, { ...wiring, dataDir, peers: () => peers });
  const logs = new LogService({
    store: repos.logs,
    clock,
    logger,
    retentionMs: config.logRetentionMs,
    live: new LocalFanOut(),
  });
  await life.add({ name: "logs", stop: () => logs.close() });

  const workerRoot = await openWorkerRoot(
    dataDir,
    process.getuid?.() === 0 && config.isolateUsers === "auto",
  );
  await life.add({ name: "worker directory", stop: () => workerRoot.remove() });
  const driver = chooseDriver(config, workerRoot.path);
  logger.info(`sandboxes: ${driver.isolation}`);
  if (driver.noJail) logger.warn(`sandboxes are not jailed: ${driver.noJail}`);
  const worker = new Worker({
    id: "local",
    root: workerRoot.path,
    totalMemoryMb: config.workerMemoryMb,
    driver: driver.driver,
    tier: driver.tier,
    packages: code,
    logs,
    clock,
    logger,
    nodeBootstrap: NODE_BOOTSTRAP,
    nodeBinary: process.execPath,
    poolSize: config.poolSize,
  });
  await life.add({ name: "worker", start: () => worker.open(), stop: () => worker.close() });
  const placement = new LocalPlacement([worker]);

  const otlp = config.otlpEndpoint
    ? new OtlpTraces({ endpoint: config.otlpEndpoint, serviceName: "nimbus" })
    : undefined;
  await life.add({
    name: "trace export",
    stop: () => otlp?.close().catch((err: unknown) => logger.warn("could not send the last traces", { err })),
  });

  const pricing: Pricing = {
    request: config.priceRequest,
    gbSecond: config.priceGbSecond,
    provisionedGbSecond: config.priceProvisionedGbSecond,
    provisionedDurationGbSecond: config.priceProvisionedDurationGbSecond,
    freeTier: config.freeTier,
  };
  const uptime = new ProvisionedUptime({ repo: repos.provisioned, logger });
  const budgets = new Budgets({
    store: repos.budgets,
    usage: repos.usage,
    provisioned: repos.provisioned,
    pricing,
    now: () => clock.now(),
    running: () => uptime.running(),
    metered: config.metering,
  });
  uptime.onEnded((span) => budgets.spanEnded(span));
  await life.add({ name: "budgets", start: () => budgets.load() });
  const meter = new UsageMeter({
    enabled: config.metering,
    onRecord: (r) => {
      budgets.spend(r);
      otlp?.export(r);
    },
  });

  const server = new HttpServer(clock);
  const http = server.components(() => logs.endFollowers());
  await life.add(http.responses);
  await life.add({ name: "endpoint file", stop: () => rm(join(dataDir, ENDPOINT_FILE), { force: true }) });

  const dispatcher = new Dispatcher({
    meter: (fn, result, how) => meter.record(fn, result, how),
    admission: (fn) => budgets.check(fn.functionName),
    placement,
    clock,
    logs,
    logger,
    region: config.region,
    accountId: config.accountId,
    accountConcurrency: config.accountConcurrency,
    keepAliveMs: config.keepAliveMs,
    ...(config.keepAlivePolicy === "adaptive"
      ? { keepAlive: new HybridHistogramKeepAlive({ fixedMs: config.keepAliveMs }) }
      : {}),
    initTimeoutMs: config.initTimeoutMs,
    scaleLimit: { burst: config.instanceBurst, perSecond: config.instancesPerSecond },
    provisionedSpans: uptime,
  });
  await life.add({
    name: "dispatcher",
    // Running invocations finish (up to the grace period), then the rest are cut and every
    // instance stops.
    stop: async () => {
      const cut = await dispatcher.drain(config.shutdownGraceMs);
      if (cut > 0) logger.warn("shutdown grace period over: stopping running invocations", { running: cut });
      await dispatcher.close();
    },
  });
  const metrics = new PlatformMetrics({
    instances: () => dispatcher.instanceStates(),
    concurrency: () => dispatcher.concurrentExecutions(),
    backlog: () => queue.backlog(),
    pooledRuntimes: () => worker.pooledReady(),
    now: () => clock.now(),
  });
  dispatcher.observe(metrics);

  const changes = new RegistryChanges();
  const registry = new Registry({
    store: repos.functions,
    code: code,
    placement,
    clock,
    sandboxes: driver.capabilities,
    events: changes,
    arn: (name, qualifier) => functionArn(config.region, config.accountId, name, qualifier),
    queues: { describe: (arn) => queues.describe(arn) },
  });
  changes.on({
    retire: (name, version) => dispatcher.retire(name, version),
    reservationChanged: (name, n) => dispatcher.setReservation(name, n),
    published: snapshotOnPublish(worker, {
      region: config.region,
      initTimeoutMs: config.initTimeoutMs,
      logger,
    }),
  });
  await life.add({ name: "registry", start: () => registry.load() });
  const provisioned = new ProvisionedConcurrency({
    store: repos.provisioned,
    registry,
    dispatcher,
    clock,
    logger,
    accountConcurrency: config.accountConcurrency,
  });
  // Provisioned instances follow what their qualifiers point to: reapplied after each change.
  const reprovision = () =>
    void provisioned
      .apply()
      .catch((err: unknown) => logger.error("could not apply provisioned concurrency", { err }));
  changes.on({ retire: reprovision, aliasChanged: reprovision });
  await life.add({ name: "provisioned concurrency", start: () => provisioned.apply() });

  const invoke = new InvokeService({
    registry,
    dispatcher,
    region: config.region,
    accountId: config.accountId,
    records: config.recordSyncInvocations ? { store: queue, clock, logger } : undefined,
  });
  const eventConfigs = new EventConfigs({
    store: repos.eventConfigs,
    registry,
    clock,
    queues: { describe: (arn) => queues.describe(arn) },
  });
  const urls = new FunctionUrls({ store: repos.functionUrls, registry, clock });
  changes.on({ retire: (name, version) => urls.retired(name, version) });
  await life.add({ name: "function urls", start: () => urls.start() });
  const httpApis = new HttpApis({
    store: repos.httpApis,
    clock,
    functionExists: (arnOrName) => functionExists(registry, arnOrName),
    region: config.region,
    accountId: config.accountId,
  });
  await life.add({ name: "http apis", start: () => httpApis.start() });
  const queues = new QueuesService({
    repo: withQueueCache(repos.queues, clock),
    clock,
    fanout: new LocalFanOut(),
    account: { region: config.region, accountId: config.accountId },
  });
  const asyncInvoker = new AsyncInvoker({
    queue,
    registry,
    dispatcher,
    configs: eventConfigs,
    clock,
    region: config.region,
    accountId: config.accountId,
    budgets,
    settings: {
      ...DEFAULT_ASYNC_SETTINGS,
      retryDelaysMs: config.asyncRetryDelaysMs,
      recordRetentionMs: config.recordRetentionMs,
      backoffMs: [config.asyncBackoffMs[0], Math.max(config.asyncBackoffMs[0], config.asyncBackoffMs[1])],
    },
    errorType: (code) => LAMBDA_NAMES[code],
    sendToQueue: (arn, body, attributes) => queues.sendByArn(arn, body, attributes),
    // The outcome on the bus, in the event's own chain (its trace header), so that a rule whose
    // target is a function invoked asynchronously meets the loop guard, not an endless chain.
    ended: (e, status, condition) => {
      if (condition === "Stopped" || condition === "RecursiveInvocationDetected") return;
      const detail = {
        requestId: e.id,
        functionName: e.functionName,
        qualifier: e.qualifier ?? null,
        condition,
      };
      void ownEvent(
        status === "succeeded" ? "Async Invocation Succeeded" : "Async Invocation Failed",
        detail,
        e.functionName,
        e.traceId,
      );
    },
  });
  changes.on({
    lifecycle: (c) =>
      void ownEvent(
        `Function ${c.kind[0]!.toUpperCase()}${c.kind.slice(1)}`,
        { functionName: c.functionName, ...(c.version ? { version: c.version } : {}) },
        c.functionName,
      ),
  });
  /** The platform's own events on the default bus (`source: nimbus.lambda`); a failure is logged, never thrown. */
  const ownEvent = (
    detailType: string,
    detail: Record<string, unknown>,
    functionName: string,
    traceHeader?: string,
  ) =>
    events
      .publish(
        "nimbus.lambda",
        detailType,
        detail,
        [functionArn(config.region, config.accountId, functionName)],
        traceHeader,
      )
      .catch((err: unknown) => logger.error("a platform event could not be published", { err, detailType }));
  const mappings = new EventSourceMappings({
    repo: repos.mappings,
    queues,
    functionExists: async (name, qualifier) => {
      await registry.get(name, qualifier);
    },
    clock,
  });
  const mappingPoller = new MappingPoller({
    repo: repos.mappings,
    queues: {
      describe: (arn) => queues.describe(arn),
      receive: (arn, max, waitMs, signal) => queues.pollMessages(arn, max, waitMs, signal),
      delete: (arn, handles) => queues.deleteReceived(arn, handles),
    },
    region: config.region,
    processed: (uuid, result) => mappings.processed(uuid, result),
  });
  mappings.listen(mappingPoller);
  const events = wireEventBus({
    repo: repos.events,
    destinationsRepo: repos.apiDestinations,
    clock,
    account: { region: config.region, accountId: config.accountId },
    logger,
    accept: (input) => asyncInvoker.accept(input),
    queues,
    exists: (arn) => targetExists(registry, queues, arn),
    metrics: metrics.registry,
  });
  await life.add({ name: "event bus", start: () => events.start(), stop: async () => events.stop() });
  const { scheduler, ticker } = wireSchedules({
    repo: repos.schedules,
    clock,
    account: { region: config.region, accountId: config.accountId },
    queues,
    events,
    logger,
    exists: (arn) => targetExists(registry, queues, arn),
  });
  await life.add({ name: "schedules", start: () => scheduler.start() });
  let baseUrl = "";
  const authService = await wireAuth(life, { ...wiring, credentials, invoke, events, url: () => baseUrl });
  const sources = eventSources({
    asyncQueue: asyncInvoker.poller,
    queueMappings: mappingPoller,
    schedules: ticker,
  });
  const context = sourceContext({ invoke, enqueue: (input) => asyncInvoker.accept(input), clock, logger });
  await life.add({
    name: "event sources",
    start: () => startSources(sources, context),
    stop: () => stopSources(sources, logger),
  });
  const peers = { config, registry, queues, events, enqueue: context.enqueue };
  await life.add(objects.objectEvents);

  const usage = new UsageQueries({
    logs,
    usage: repos.usage,
    spans: (name, from, to) => uptime.overlapping(name, from, to),
    pricing,
  });
  const { app, onNode } = createGateway({
    registry,
    invoke,
    async: asyncInvoker,
    eventConfigs,
    urls,
    httpApis,
    queues,
    mappings,
    events,
    scheduler,
    ...objects,
    s3Secret: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
    authService,
    userClaims: (token) => authService.verifyAccessToken(token),
    authMode: config.auth,
    records: queue,
    redrive: (id) => asyncInvoker.redrive(id),
    provisionedUptime: (name, from, to) => uptime.overlapping(name, from, to),
    runs: (id) => usage.runs(id),
    usage: (q) => usage.report(q),
    budgets,
    dispatcher,
    provisioned,
    snapStart: (fn) => snapStartStatus(worker.snapshotOf(fn)),
    logs,
    logger,
    auth: createAuthenticator(config.auth, credentials, () => clock.now()),
    arn: { region: config.region, accountId: config.accountId },
    accountConcurrency: config.accountConcurrency,
    accountUsage: () => repos.functions.accountUsage(),
    codeUrls: new CodeUrls(credentials.secretAccessKey, clock),
    packages: code,
    now: () => clock.now(),
    metrics,
    clock,
  });
  // Last added, first stopped: no new request reaches what is stopping after it.
  await life.add(http.accepting);

  return {
    config,
    credentials,
    credentialsSource: source,
    app,
    dispatcher,
    logs,
    worker,
    events,
    async listen() {
      baseUrl = await server.listen(app.fetch, config.host, config.port, onNode);
      await writeFile(join(dataDir, ENDPOINT_FILE), `${baseUrl}\n`, { mode: 0o600 });
      return baseUrl;
    },
    url: () => baseUrl,
    abort: () => {
      worker.abort();
      lock?.release();
    },
    close: () => life.stop(),
  };
}
