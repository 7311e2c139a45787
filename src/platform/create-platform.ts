/**
 * The composition root: the only place where the subsystems are wired together. One call
 * gives a running platform on its data directory; `listen` puts it on a port.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createAdaptorServer } from "@hono/node-server";
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
import { Registry } from "../control/registry/registry.js";
import { eventSources, sourceContext, startSources, stopSources } from "../control/triggers/sources.js";
import { type Pricing, UsageMeter } from "../control/usage.js";
import { usageReport } from "../control/usage-report.js";
import { createGateway } from "../gateway/app.js";
import { type Credentials, createAuthenticator } from "../gateway/auth/principal.js";
import { LAMBDA_NAMES } from "../gateway/surfaces/lambda-api/errors.js";
import { functionArn } from "../protocol/function.js";
import { type Clock, systemClock } from "../shared/clock.js";
import type { Config } from "../shared/config.js";
import { LocalFanOut } from "../shared/fanout-local.js";
import { createLogger, type Logger } from "../shared/logger.js";
import type { SnapshotBuild } from "../worker/snapshot.js";
import { Worker } from "../worker/worker.js";
import { openBackends } from "./backends.js";
import { loadCredentials } from "./credentials.js";
import { lockDataDir, PlatformStartError } from "./data-dir-lock.js";
import { ENDPOINT_FILE, makePrivate } from "./private-data.js";
import { chooseDriver } from "./sandbox-choice.js";

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
  /** Starts the HTTP server; resolves with the URL it listens on. */
  listen(): Promise<string>;
  url(): string;
  /** Stops accepting requests, lets running invocations finish, stops every instance, closes the store. */
  close(): Promise<void>;
  /** Kills every instance synchronously: the last thing a process that must exit now does. */
  abort(): void;
}

/** After the drain, how long responses may take to reach their callers before connections are cut. */
const RESPONSE_FLUSH_MS = 1000;

/** The Node runtime shipped with this build: one CommonJS bundle (scripts/build-runtime.js). */
const NODE_BOOTSTRAP = fileURLToPath(new URL("../../runtime/node/bootstrap.cjs", import.meta.url));

export async function createPlatform(config: Config, deps: PlatformDeps = {}): Promise<Platform> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const dataDir = resolve(config.dataDir);
  // Every function's environment, logs and code live here: private, whatever the umask.
  for (const problem of await makePrivate(dataDir)) logger.warn(problem);
  // Before anything reads or runs what the directory holds: its queue, its logs, its instances.
  const lock = lockDataDir(dataDir);
  const { credentials, source } = await loadCredentials(dataDir, deps.env ?? {});

  const backends = await openBackends(config.store, dataDir).catch((err: unknown) => {
    lock.release();
    throw err;
  });
  const { repos } = backends;
  logger.info(`state: ${backends.description}`);
  const code = new CodeStore(join(dataDir, "packages"));
  await code.open();
  const logs = new LogService({
    store: repos.logs,
    clock,
    logger,
    retentionMs: config.logRetentionMs,
    live: new LocalFanOut(),
  });
  // Sandboxes run as other users and must reach their code, which the private data directory
  // does not let them: the worker's files (derived data: extracted code, snapshots, instance
  // directories) live in a fresh directory under the system's temp dir that they may traverse
  // but not list.
  let workerRoot = join(dataDir, "worker");
  let ownWorkerRoot = false;
  if (process.getuid?.() === 0 && config.isolateUsers === "auto") {
    workerRoot = await mkdtemp(join(tmpdir(), "nimbus-worker-"));
    ownWorkerRoot = true;
  }
  await mkdir(workerRoot, { recursive: true });
  await chmod(workerRoot, 0o711);
  const driver = chooseDriver(config, workerRoot);
  logger.info(`sandboxes: ${driver.isolation}`);
  if (driver.noJail) logger.warn(`sandboxes are not jailed: ${driver.noJail}`);
  const worker = new Worker({
    id: "local",
    root: workerRoot,
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
  await worker.open();
  const placement = new LocalPlacement([worker]);
  const { queue } = backends;
  // Its gauges read the dispatcher when scraped, made below.
  const metrics = new PlatformMetrics({
    instances: () => dispatcher.instanceStates(),
    concurrency: () => dispatcher.concurrentExecutions(),
    backlog: () => queue.backlog(),
    pooledRuntimes: () => worker.pooledReady(),
    now: () => clock.now(),
  });
  const pricing: Pricing = {
    request: config.priceRequest,
    gbSecond: config.priceGbSecond,
    provisionedGbSecond: config.priceProvisionedGbSecond,
    provisionedDurationGbSecond: config.priceProvisionedDurationGbSecond,
    freeTier: config.freeTier,
  };
  const budgets = new Budgets({
    store: repos.budgets,
    usage: repos.usage,
    provisioned: repos.provisioned,
    pricing,
    now: () => clock.now(),
    running: () => dispatcher.provisionedRunning(),
    metered: config.metering,
  });
  await budgets.load();
  const otlp = config.otlpEndpoint
    ? new OtlpTraces({ endpoint: config.otlpEndpoint, serviceName: "nimbus" })
    : undefined;
  const meter = new UsageMeter({
    enabled: config.metering,
    onRecord: (r) => {
      budgets.spend(r);
      otlp?.export(r);
    },
  });
  const dispatcher: Dispatcher = new Dispatcher({
    observer: {
      invoked(fn, result, how) {
        metrics.invoked(fn, result, how);
      },
      throttled(functionName, reason) {
        metrics.throttled(functionName, reason);
      },
    },
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
    onProvisionedSpan: (span) => {
      budgets.spanEnded(span);
      void repos.provisioned
        .recordProvisionedSpan(span)
        .catch((err: unknown) =>
          logger.error("could not record a provisioned instance's up-time", { err, span }),
        );
    },
  });
  // Provisioned instances follow what their qualifiers point to: reapplied after each change.
  let provisioned: ProvisionedConcurrency | undefined;
  const reprovision = () =>
    void provisioned
      ?.apply()
      .catch((err: unknown) => logger.error("could not apply provisioned concurrency", { err }));
  const registry = new Registry({
    store: repos.functions,
    code,
    placement,
    clock,
    sandboxes: driver.capabilities,
    events: {
      retire: (name, version) => {
        dispatcher.retire(name, version);
        reprovision();
      },
      reservationChanged: (name, n) => dispatcher.setReservation(name, n),
      aliasChanged: reprovision,
      // A published version of a SnapStart function gets its snapshot before PublishVersion answers.
      published: async (fn) => {
        if (!fn.snapStart) return;
        // The version is published either way: without a snapshot it starts with a plain init.
        const built = await worker
          .buildSnapshot({ function: fn, region: config.region, initTimeoutMs: config.initTimeoutMs })
          .catch((err: unknown) => ({
            ok: false as const,
            reason: `building the snapshot failed: ${String(err)}`,
          }));
        if (!built.ok)
          logger.warn("no snapshot for this version", {
            function: fn.functionName,
            version: fn.version,
            reason: built.reason,
          });
      },
    },
    arn: (name, qualifier) => functionArn(config.region, config.accountId, name, qualifier),
  });
  await registry.load();
  provisioned = new ProvisionedConcurrency({
    store: repos.provisioned,
    registry,
    dispatcher,
    clock,
    logger,
    accountConcurrency: config.accountConcurrency,
  });
  await provisioned.apply();
  const invoke = new InvokeService({
    registry,
    dispatcher,
    region: config.region,
    accountId: config.accountId,
    ...(config.recordSyncInvocations
      ? {
          record: (inv, outcome) => {
            const now = clock.now();
            queue
              .record(
                { ...inv, id: inv.requestId, traceId: inv.traceId ?? "", acceptedAt: now, hops: 0 },
                outcome,
                now,
              )
              .catch((err: unknown) => logger.error("could not keep an invocation record", { err }));
          },
        }
      : {}),
  });
  const eventConfigs = new EventConfigs({ store: repos.eventConfigs, registry, clock });
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
  });
  const sources = eventSources({ asyncQueue: asyncInvoker.poller });
  await startSources(
    sources,
    sourceContext({ invoke, enqueue: (input) => asyncInvoker.accept(input), clock, logger }),
  );
  let baseUrl = "";
  // Provisioned instances' up-time overlapping a window: ended (stored) and running.
  const spans = async (name: string | undefined, from: number, to: number) => [
    ...(await repos.provisioned.provisionedSpans(name, from, to)),
    ...dispatcher.provisionedRunning(name).filter((s) => s.startedAt < to),
  ];
  const app = createGateway({
    registry,
    invoke,
    async: asyncInvoker,
    eventConfigs,
    records: queue,
    redrive: (id) => asyncInvoker.redrive(id),
    provisionedUptime: (name, from, to) => spans(name, from, to),
    // Usage records are stored with the log's batches: what the log holds is stored first, so a
    // record asked for right after its invocation is there, and a report includes the last calls.
    runs: async (id) => {
      await logs.flush();
      return repos.usage.usageOf(id);
    },
    usage: async (q) => {
      await logs.flush();
      return usageReport({ store: repos.usage, spans, pricing }, q);
    },
    budgets,
    dispatcher,
    provisioned,
    snapStart: (fn) => snapStartView(worker.snapshotOf(fn)),
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
  });

  let server: Server | undefined;
  return {
    config,
    credentials,
    credentialsSource: source,
    app,
    dispatcher,
    logs,
    worker,
    async listen() {
      server = createAdaptorServer({ fetch: app.fetch }) as Server;
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((ok, fail) => {
        server!.once("error", (err) => fail(listenError(err, config.host, config.port)));
        server!.listen(config.port, config.host, () => ok());
      });
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      baseUrl = `http://${host}:${port}`;
      await writeFile(join(dataDir, ENDPOINT_FILE), `${baseUrl}\n`, { mode: 0o600 });
      return baseUrl;
    },
    url: () => baseUrl,
    abort: () => {
      worker.abort();
      lock.release();
    },
    async close() {
      // Stop accepting, end log streams, let running invocations finish (up to the grace
      // period), then cut what is left and stop every instance.
      const closed = server
        ? new Promise<void>((ok) => {
            server!.close(() => ok());
            server!.closeIdleConnections();
          })
        : Promise.resolve();
      logs.endFollowers();
      await stopSources(sources, logger);
      const cut = await dispatcher.drain(config.shutdownGraceMs);
      if (cut > 0) logger.warn("shutdown grace period over: stopping running invocations", { running: cut });
      await dispatcher.close();
      if (server) {
        // Finished invocations still write their responses; then nothing may hold the server.
        const timer = clock.setTimeout(() => server!.closeAllConnections(), RESPONSE_FLUSH_MS);
        await closed;
        timer.cancel();
        await rm(join(dataDir, ENDPOINT_FILE), { force: true });
      }
      await worker.close();
      if (ownWorkerRoot) await rm(workerRoot, { recursive: true, force: true });
      await otlp?.close().catch((err: unknown) => logger.warn("could not send the last traces", { err }));
      await logs.close();
      // Events still running were cut: they stay claimed and run again at the next start.
      await backends.close();
      lock.release();
    },
  };
}

/** What a user can act on when the platform cannot listen where it was told to. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (err.code === "EADDRINUSE")
    return new PlatformStartError(
      "address-in-use",
      `cannot listen on ${where}: the port is in use (by another Nimbus platform or another program); stop it, or choose another port with --port`,
    );
  if (err.code === "EADDRNOTAVAIL")
    return new PlatformStartError(
      "address-not-available",
      `cannot listen on ${where}: ${host} is not an address of this machine; choose one with --host (127.0.0.1, or 0.0.0.0 for every address)`,
    );
  return err;
}

/** A version's SnapStart status as the configuration shows it. */
function snapStartView(s: SnapshotBuild | undefined): { status: "On" | "Off"; reason?: string } {
  if (!s) return { status: "Off" };
  if (!s.ok) return { status: "Off", reason: s.reason };
  if (!s.faster) {
    return {
      status: "Off",
      reason: `restoring took ${s.restoreMs.toFixed(0)} ms, more than running the init (${s.initMs.toFixed(0)} ms)`,
    };
  }
  return { status: "On" };
}
