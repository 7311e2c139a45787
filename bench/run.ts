/**
 * `npm run bench`: starts the platform in a child process, measures the selected figures,
 * each beside a baseline taken in the same run, prints a table and writes
 * bench/results/latest.json. The figures that depend on the sandbox driver run once per driver,
 * the jail's beside the process driver's (`sandboxes.ts`); those that depend on the store, once
 * per store, PostgreSQL's beside SQLite's (`stores.ts`). With `--ab REV`, runs figures
 * alternately on that revision and this checkout instead (`ab.ts`). See bench/README.md for
 * what each figure measures.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { shownUrl } from "../src/store/postgres/connect.js";
import { type AbOptions, abCompare } from "./ab.js";
import { asyncAccept, asyncKills, asyncStart } from "./async.js";
import { authJwt, authRefresh, authSignIn } from "./auth.js";
import { coldStart } from "./cold-start.js";
import { busStart, queueStart, sqsSend } from "./events.js";
import { httpTriggers } from "./http.js";
import { idleMemory } from "./idle-memory.js";
import { keepAliveFigure } from "./keep-alive.js";
import { type BenchContext, type FigureResult, SANDBOXES, type Sandbox, type Store } from "./lib/context.js";
import { Control } from "./lib/functions.js";
import { Signer } from "./lib/http-client.js";
import { PlatformProcess } from "./lib/platform.js";
import { BenchPostgres, type BenchSchema, DEFAULT_BENCH_POSTGRES_URL } from "./lib/postgres.js";
import { cpuMsOf, machineBusyMs } from "./lib/proc.js";
import { meteringCost } from "./metering.js";
import { poolColdStart } from "./pool.js";
import { provisionedFirstCall } from "./provisioned.js";
import { ruleMatching } from "./rules.js";
import { compareSandboxes, GVISOR_FIGURES, SANDBOX_FIGURES, type SandboxFigure } from "./sandboxes.js";
import { scheduleStart } from "./schedules.js";
import { snapshotColdStart } from "./snapshot.js";
import { sqsKills } from "./sqs-kill.js";
import { storageBulk, storageList, storageSmall } from "./storage.js";
import { compareStores, STORE_FIGURES, STORES, type StoreFigure } from "./stores.js";
import { throughput } from "./throughput.js";
import { warmLatency } from "./warm-latency.js";

/**
 * What `--ab` compares by default: every figure of docs/performance.md's table that a
 * revision can change, but the kill figure: a count of losses, 0 on both sides, that takes
 * minutes (`--only kill` compares it too).
 */
const AB_DEFAULT_FIGURES =
  "latency,throughput,cold,memory,pool,provisioned,snapshot,start,accept,keepalive,metering";

/** Issue 15's figures, the auth service (`--only auth`). */
const AUTH_FIGURES: readonly Figure[] = ["authjwt", "authrefresh", "authsignin"];

/** Object storage's figures (`--only storage`). */
const STORAGE_FIGURES: readonly Figure[] = ["storagebulk", "storagesmall", "storagelist"];

/** Issue 14's figures, the event sources (`--only events`). */
const EVENT_FIGURES: readonly Figure[] = [
  "sqs",
  "queuestart",
  "busstart",
  "schedulestart",
  "rules",
  "sqskill",
];

const USAGE = `usage: npm run bench -- [options]

  --runs N            runs per figure (default 5)
  --only LIST         figures to run, comma-separated: latency,throughput,cold,memory,pool,provisioned,
                      snapshot,start,accept,kill,keepalive,metering,http,sqs,queuestart,busstart,
                      schedulestart,rules,sqskill,authjwt,authrefresh,authsignin,storagebulk,
                      storagesmall,storagelist
                      (default all; "sandbox" stands for ${SANDBOX_FIGURES.join(",")},
                      "events" for ${EVENT_FIGURES.join(",")}, "auth" for ${AUTH_FIGURES.join(",")},
                      "storage" for ${STORAGE_FIGURES.join(",")})
  --sandboxes LIST    drivers to run ${SANDBOX_FIGURES.join(",")} on, comma-separated: process,jail,gvisor
                      (gvisor runs ${GVISOR_FIGURES.join(",")} only)
                      (default both: the jail's figures beside the process driver's); the other
                      figures run on the first listed
  --stores LIST       stores to run ${STORE_FIGURES.join(",")} on, comma-separated: sqlite,postgres
                      (default both when PostgreSQL is reachable, else sqlite alone): PostgreSQL's
                      figures beside SQLite's, on the first driver; the other figures run on SQLite
  --postgres URL      the PostgreSQL server (default $NIMBUS_BENCH_POSTGRES_URL, else
                      ${DEFAULT_BENCH_POSTGRES_URL}); a PostgreSQL platform gets
                      a schema of its own there (nimbus_bench_…), dropped when it has closed
  --requests N        warm latency and http: timed sequential requests per run (default 2000)
  --instances N       throughput and http: instances and requests in flight (default 4)
  --duration-ms N     throughput and http: timed window per run and target (default 2000)
  --cold-functions N  cold start and pool: fresh functions per run (default 20)
  --idle-instances N  idle memory: instances per run (default 10)
  --out FILE          results file (default bench/results/latest.json; with --ab, bench/results/ab.json)
  --cpu-prof DIR      write a V8 CPU profile of the platform process to DIR (open it in Chrome DevTools)
  --ab REV            A/B instead of the table: the figures of --only alternately on a temporary
                      checkout of REV (A) and on this one (B), each with its own bench and --runs 1;
                      prints median A, median B, B/A and whether it is within noise (bench/README.md).
                      Default figures: ${AB_DEFAULT_FIGURES}
  --pairs N           A/B: invocations of each checkout (default 5)
`;

/** Above this share of the machine's CPU taken by other processes, a figure is flagged as disturbed. */
const DISTURBED_SHARE = 0.1;
/** Width of the table's first column (figure names such as "async accept · postgres"). */
const NAME_WIDTH = 24;
const FIGURES = [
  "latency",
  "throughput",
  "cold",
  "memory",
  "pool",
  "provisioned",
  "snapshot",
  "start",
  "accept",
  "kill",
  "keepalive",
  "metering",
  "http",
  "sqs",
  "queuestart",
  "busstart",
  "schedulestart",
  "rules",
  "sqskill",
  "authjwt",
  "authrefresh",
  "authsignin",
  "storagebulk",
  "storagesmall",
  "storagelist",
] as const;
type Figure = (typeof FIGURES)[number];

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      only: { type: "string" },
      sandboxes: { type: "string", default: SANDBOXES.join(",") },
      stores: { type: "string" },
      postgres: {
        type: "string",
        default: process.env.NIMBUS_BENCH_POSTGRES_URL ?? DEFAULT_BENCH_POSTGRES_URL,
      },
      requests: { type: "string", default: "2000" },
      instances: { type: "string", default: "4" },
      "duration-ms": { type: "string", default: "2000" },
      "cold-functions": { type: "string", default: "20" },
      "idle-instances": { type: "string", default: "10" },
      out: { type: "string" },
      "cpu-prof": { type: "string" },
      ab: { type: "string" },
      pairs: { type: "string", default: "5" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  const int = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min)
      problems.push(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return n;
  };
  const only = (values.only ?? (values.ab !== undefined ? AB_DEFAULT_FIGURES : FIGURES.join(",")))
    .split(",")
    .map((s) => s.trim())
    .flatMap((s): readonly string[] =>
      s === "sandbox"
        ? SANDBOX_FIGURES
        : s === "events"
          ? EVENT_FIGURES
          : s === "auth"
            ? AUTH_FIGURES
            : s === "storage"
              ? STORAGE_FIGURES
              : [s],
    );
  for (const f of only)
    if (!(FIGURES as readonly string[]).includes(f))
      problems.push(
        `--only: unknown figure "${f}", expected some of ${FIGURES.join(", ")}, sandbox, events, auth or storage`,
      );
  const sandboxes = [...new Set(values.sandboxes.split(",").map((s) => s.trim()))];
  for (const s of sandboxes)
    if (!(SANDBOXES as readonly string[]).includes(s))
      problems.push(`--sandboxes: unknown driver "${s}", expected some of ${SANDBOXES.join(", ")}`);
  const stores = values.stores?.split(",").map((s) => s.trim());
  for (const s of stores ?? [])
    if (!(STORES as readonly string[]).includes(s))
      problems.push(`--stores: unknown store "${s}", expected some of ${STORES.join(", ")}`);
  if (stores && !stores.includes("sqlite"))
    problems.push(
      `--stores: PostgreSQL's figures are set beside SQLite's, so list sqlite too, got ${values.stores}`,
    );
  const o = {
    runs: int("runs", 1),
    only: new Set(only as Figure[]),
    sandboxes: sandboxes as Sandbox[],
    /** Undefined: both when PostgreSQL is reachable. */
    stores: stores ? ([...new Set(stores)] as Store[]) : undefined,
    postgresUrl: values.postgres,
    requests: int("requests", 10),
    instances: int("instances", 1),
    durationMs: int("duration-ms", 100),
    coldFunctions: int("cold-functions", 1),
    idleInstances: int("idle-instances", 1),
    out: values.out ?? join("bench", "results", values.ab !== undefined ? "ab.json" : "latest.json"),
    cpuProfileDir: values["cpu-prof"],
    ab: values.ab,
    pairs: int("pairs", 1),
    /** The options every checkout's bench understands, passed on as they were given. */
    sizes: (["requests", "instances", "duration-ms", "cold-functions", "idle-instances"] as const).flatMap(
      (name) => [`--${name}`, String(values[name])],
    ),
  };
  if (problems.length > 0) {
    process.stderr.write(`${problems.join("\n")}\n\n${USAGE}`);
    process.exit(2);
  }
  return o;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: "pipe" }).trim();
  } catch {
    return undefined;
  }
}

/**
 * CPU used so far by the bench, its platforms and their live instances, every process they
 * have reaped, and the PostgreSQL server if it runs here: what the machine's busy time minus
 * this leaves is other people's work.
 */
async function benchCpuMs(platforms: Iterable<PlatformProcess>, postgres?: BenchPostgres): Promise<number> {
  // The PostgreSQL server works for the bench's platform (other clients of it count too).
  let ms = cpuMsOf(process.pid, true) + (postgres?.cpuMs() ?? 0);
  for (const platform of platforms) {
    const instances = await platform.instancePids();
    ms += cpuMsOf(platform.pid, true) + instances.reduce((t, pid) => t + cpuMsOf(pid), 0);
  }
  return ms;
}

/**
 * A figure that throws becomes a failed row, so that one driver's failure does not cost the
 * other driver's figure, nor the rest of the table.
 */
async function measureOrFail(figure: Figure, measure: () => Promise<FigureResult>): Promise<FigureResult> {
  try {
    return await measure();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      name: figure,
      line: `failed: ${message.slice(0, 500)} MISS`,
      notes: [],
      pass: false,
      data: { error: message },
    };
  }
}

function isSandboxFigure(figure: Figure): figure is SandboxFigure {
  return (SANDBOX_FIGURES as readonly string[]).includes(figure);
}

function isStoreFigure(figure: Figure): figure is StoreFigure {
  return (STORE_FIGURES as readonly string[]).includes(figure);
}

/**
 * The PostgreSQL server when the run includes it: asked for, or by default when a figure that
 * depends on the store is selected and the server answers. Asked for and not reachable: exits.
 */
async function postgresOf(o: ReturnType<typeof options>): Promise<BenchPostgres | undefined> {
  const wanted = o.stores ? o.stores.includes("postgres") : [...o.only].some(isStoreFigure);
  if (!wanted) return undefined;
  const reached = await BenchPostgres.reach(o.postgresUrl);
  if (reached.ok) return reached.server;
  const why = `PostgreSQL is not reachable at ${shownUrl(o.postgresUrl)} (${reached.reason})`;
  if (o.stores) {
    process.stderr.write(`${why}; start it, point --postgres at one, or leave postgres out of --stores\n`);
    process.exit(2);
  }
  process.stdout.write(
    `${why}: the figures run on SQLite alone. Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) ` +
      "or point --postgres at one to set PostgreSQL's figures beside SQLite's.\n",
  );
  return undefined;
}

/**
 * What the PostgreSQL row adds to its figure. The accepts count only where a commit is durable:
 * a server with synchronous_commit=off or fsync=off answers before its WAL is on disk.
 */
function postgresContext(figure: StoreFigure, postgres: BenchPostgres): { notes: string[]; valid: boolean } {
  if (figure !== "accept" && figure !== "sqs") return { notes: [], valid: true };
  const { synchronousCommit, fsync } = postgres.durability;
  const durable = synchronousCommit !== "off" && fsync === "on";
  return {
    notes: [
      `durable: each ${figure === "accept" ? "202" : "SendMessage answer"} is sent after its INSERT has committed; the server has synchronous_commit=${synchronousCommit}, ` +
        `fsync=${fsync}${durable ? " (a commit waits for its WAL to be flushed)" : ": NOT durable, so the figure fails"}`,
    ],
    valid: durable,
  };
}

async function main(): Promise<void> {
  const o = options();
  if (o.ab !== undefined) {
    const ab: AbOptions = { rev: o.ab, figures: [...o.only], pairs: o.pairs, sizes: o.sizes, out: o.out };
    process.exitCode = await abCompare(ab);
    return;
  }
  const began = performance.now();
  const postgres = await postgresOf(o);
  const schemas: BenchSchema[] = [];
  const progress = (m: string) => process.stderr.write(`  … ${m}\n`);
  // One platform per driver and store, started when a figure first needs it. Issue 2's figures
  // are those of a platform without a warm pool (the pool figure starts its own, with the same
  // driver). A PostgreSQL platform gets a schema of its own, dropped once it has closed.
  const contexts = new Map<string, BenchContext>();
  const contextOf = async (sandbox: Sandbox, store: Store = "sqlite"): Promise<BenchContext> => {
    const known = contexts.get(`${sandbox}/${store}`);
    if (known) return known;
    let schema: BenchSchema | undefined;
    if (store === "postgres") {
      schema = await postgres!.schema();
      schemas.push(schema);
    }
    const profiled =
      o.cpuProfileDir !== undefined &&
      sandbox === o.sandboxes[0] &&
      store === (process.env.NIMBUS_BENCH_PROFILE_STORE ?? "sqlite");
    const cpuProfile = profiled ? { cpuProfileDir: o.cpuProfileDir } : {};
    const platform = await PlatformProcess.start({
      settings: { poolSize: 0, sandbox, ...(schema ? { store: schema.store } : {}) },
      ...cpuProfile,
    });
    const label = [...(o.sandboxes.length > 1 ? [sandbox] : []), ...(postgres ? [store] : [])].join(" ");
    const ctx: BenchContext = {
      sandbox,
      store,
      ...(store === "postgres" ? { storeCpuMs: () => postgres!.cpuMs() } : {}),
      platform,
      base: new URL(platform.url),
      control: new Control(platform.url, platform.credentials),
      signer: new Signer(platform.credentials),
      runs: o.runs,
      ...cpuProfile,
      progress: (m) => progress(label ? `${label}: ${m}` : m),
    };
    contexts.set(`${sandbox}/${store}`, ctx);
    return ctx;
  };
  const cores = availableParallelism();
  process.stdout.write(
    `Nimbus bench: ${o.runs} runs per figure, ${cores} cores, Node ${process.version}, ` +
      `load average ${loadavg()[0]!.toFixed(2)}, sandbox drivers ${o.sandboxes.join(" and ")}` +
      `${postgres ? `, stores SQLite and PostgreSQL (${shownUrl(postgres.url)})` : ""}\n`,
  );
  const results: FigureResult[] = [];
  const others: Record<string, number> = {};
  const print = (r: FigureResult) => {
    process.stdout.write(`${r.name.padEnd(NAME_WIDTH)}${r.line}\n`);
    for (const note of r.notes) process.stdout.write(`${"".padEnd(NAME_WIDTH + 2)}${note}\n`);
  };
  try {
    await contextOf(o.sandboxes[0]!);
    const steps: [Figure, (ctx: BenchContext) => Promise<FigureResult>][] = [
      [
        "latency",
        (ctx) => warmLatency(ctx, { requests: o.requests, warmup: Math.max(200, o.requests / 10) }),
      ],
      [
        "throughput",
        (ctx) =>
          throughput(ctx, {
            instances: o.instances,
            warmupMs: Math.min(500, o.durationMs / 2),
            durationMs: o.durationMs,
          }),
      ],
      ["cold", (ctx) => coldStart(ctx, { functions: o.coldFunctions })],
      ["memory", (ctx) => idleMemory(ctx, { instances: o.idleInstances, settleMs: 1500 })],
      // Before the async figures: the kill figure leaves the machine busy for a while.
      ["pool", (ctx) => poolColdStart(ctx, { functions: o.coldFunctions, burst: 16 })],
      ["provisioned", (ctx) => provisionedFirstCall(ctx, { functions: 10 })],
      ["snapshot", (ctx) => snapshotColdStart(ctx, { functions: 5 })],
      // Before the accept figure, whose backlog of events would queue ahead of these.
      ["start", (ctx) => asyncStart(ctx, { events: 40 })],
      ["accept", (ctx) => asyncAccept(ctx, { clients: 32, durationMs: o.durationMs })],
      ["kill", (ctx) => asyncKills(ctx, { cycles: 10, clients: 16 })],
      ["keepalive", async () => keepAliveFigure()],
      [
        "metering",
        (ctx) =>
          meteringCost(ctx, {
            instances: o.instances,
            warmupMs: Math.min(500, o.durationMs / 2),
            durationMs: o.durationMs,
          }),
      ],
      [
        "http",
        (ctx) =>
          httpTriggers(ctx, {
            instances: o.instances,
            warmupMs: Math.min(500, o.durationMs / 2),
            durationMs: o.durationMs,
            requests: o.requests,
          }),
      ],
      // Issue 14: the event sources. The start figures first, on an idle platform.
      ["queuestart", (ctx) => queueStart(ctx, { events: 40, gapMs: 50 })],
      ["busstart", (ctx) => busStart(ctx, { events: 40, gapMs: 50 })],
      ["schedulestart", (ctx) => scheduleStart(ctx, { ticks: 10 })],
      ["sqs", (ctx) => sqsSend(ctx, { clients: 32, durationMs: o.durationMs })],
      ["rules", (ctx) => ruleMatching(ctx, { rules: 1000, events: 1000, durationMs: 400 })],
      ["sqskill", (ctx) => sqsKills(ctx, { cycles: 10, clients: 32, steadyMs: o.durationMs })],
      // Issue 15: the auth service, each figure on a platform of its own with its rate limits off.
      [
        "authjwt",
        (ctx) =>
          authJwt(ctx, {
            clients: 32,
            users: 8,
            warmupMs: Math.min(500, o.durationMs / 2),
            durationMs: o.durationMs,
          }),
      ],
      [
        "authrefresh",
        (ctx) =>
          authRefresh(ctx, {
            clients: 32,
            warmupMs: Math.min(500, o.durationMs / 2),
            durationMs: o.durationMs,
          }),
      ],
      ["authsignin", (ctx) => authSignIn(ctx, { requests: o.requests, signInsPerSecond: 50, users: 10 })],
      // Object storage: bytes on the shared platform, the listing on a platform of its own.
      ["storagebulk", (ctx) => storageBulk(ctx)],
      [
        "storagesmall",
        (ctx) =>
          storageSmall(ctx, {
            clients: 32,
            warmupMs: Math.min(500, o.durationMs / 2),
            durationMs: o.durationMs,
          }),
      ],
      ["storagelist", (ctx) => storageList(ctx, { keys: 1_000_000 })],
    ];
    for (const [figure, measure] of steps) {
      if (!o.only.has(figure)) continue;
      const wallStart = performance.now();
      const machineStart = machineBusyMs();
      const platforms = () => [...contexts.values()].map((c) => c.platform);
      const ownStart = await benchCpuMs(platforms(), postgres);
      // The sandbox figures once per driver, back to back; the others on the first driver.
      const byDriver = new Map<Sandbox, FigureResult>();
      const drivers = isSandboxFigure(figure)
        ? o.sandboxes.filter((d) => d !== "gvisor" || GVISOR_FIGURES.includes(figure))
        : o.sandboxes.slice(0, 1);
      for (const sandbox of drivers)
        byDriver.set(sandbox, await measureOrFail(figure, () => contextOf(sandbox).then(measure)));
      // PostgreSQL's figures beside SQLite's, on the first driver, right after SQLite's.
      const first = byDriver.get(o.sandboxes[0]!);
      const onPostgres =
        postgres && isStoreFigure(figure)
          ? await measureOrFail(figure, () => contextOf(o.sandboxes[0]!, "postgres").then(measure))
          : undefined;
      const ownMs = (await benchCpuMs(platforms(), postgres)) - ownStart;
      const share = Math.max(
        0,
        (machineBusyMs() - machineStart - ownMs) / ((performance.now() - wallStart) * cores),
      );
      const onProcess = byDriver.get("process");
      const onJail = byDriver.get("jail");
      const rows: FigureResult[] = onProcess
        ? [onProcess]
        : onJail
          ? [{ ...onJail, name: `${onJail.name} · jail` }]
          : [];
      if (onProcess?.headline && onJail?.headline && isSandboxFigure(figure))
        rows.push(compareSandboxes(figure, onProcess, onJail));
      else if (onProcess && onJail) rows.push({ ...onJail, name: `${onJail.name} · jail` });
      const onGvisor = byDriver.get("gvisor");
      if (onProcess?.headline && onGvisor?.headline && isSandboxFigure(figure))
        rows.push(compareSandboxes(figure, onProcess, onGvisor, "gvisor"));
      else if (onGvisor) rows.push({ ...onGvisor, name: `${onGvisor.name} · gvisor` });
      if (onPostgres && first?.headline && onPostgres.headline && isStoreFigure(figure))
        rows.push(compareStores(figure, first, onPostgres, postgresContext(figure, postgres!)));
      else if (onPostgres) rows.push({ ...onPostgres, name: `${onPostgres.name} · postgres` });
      for (const r of rows) {
        others[r.name] = share;
        results.push(r);
        print(r);
      }
      if (share > DISTURBED_SHARE) {
        process.stdout.write(
          `${"".padEnd(NAME_WIDTH + 2)}disturbed: other processes took ${(share * 100).toFixed(0)}% of the machine's CPU meanwhile\n`,
        );
      }
    }
  } finally {
    for (const ctx of contexts.values()) await ctx.platform.close();
    for (const schema of schemas)
      await schema
        .drop()
        .catch((err: unknown) =>
          process.stderr.write(
            `could not drop the bench's PostgreSQL schema ${schema.schema}: ${String(err)}\n`,
          ),
        );
    await postgres?.close();
  }
  const seconds = (performance.now() - began) / 1000;
  const passed = results.filter((r) => r.pass).length;
  process.stdout.write(`${passed}/${results.length} figures meet their target; ${seconds.toFixed(0)} s\n`);

  mkdirSync(join(o.out, ".."), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cores,
    runs: o.runs,
    sandboxes: o.sandboxes,
    stores: postgres ? ["sqlite", "postgres"] : ["sqlite"],
    seconds,
    figures: Object.fromEntries(
      results.map((r) => [r.name, { pass: r.pass, otherCpuShare: others[r.name], ...r.data }]),
    ),
  };
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`results: ${o.out}\n`);
}

await main();
