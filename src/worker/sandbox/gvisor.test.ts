import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { GvisorDriver, gvisorProblem } from "./gvisor.js";
import { type Sandbox, type SandboxMounts, type SandboxSpec, SandboxStartError } from "./types.js";

const isRoot = process.getuid?.() === 0;
const root = mkdtempSync(join(tmpdir(), "nimbus-gvisor-test-"));
const stateDir = join(root, "state");
const driver = new GvisorDriver({ nodeBinary: process.execPath, stateDir });
let seq = 0;

after(() => rmSync(root, { recursive: true, force: true }));

/** Fresh host directories for one sandbox: code and runtime (0755), tmp, api and out (0700). */
function freshMounts(): SandboxMounts & { readonly api: string; readonly out: string } {
  const dir = join(root, `m${seq++}`);
  const m = {
    code: join(dir, "code"),
    runtime: join(dir, "runtime"),
    tmp: join(dir, "tmp"),
    api: join(dir, "api"),
    out: join(dir, "out"),
  };
  mkdirSync(dir, { mode: 0o711 });
  mkdirSync(m.code, { mode: 0o755 });
  mkdirSync(m.runtime, { mode: 0o755 });
  mkdirSync(m.tmp, { mode: 0o700 });
  mkdirSync(m.api, { mode: 0o700 });
  mkdirSync(m.out, { mode: 0o700 });
  return m;
}

interface Ran {
  readonly sandbox: Sandbox;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** Starts `node -e script` in a sandbox (node is at the same path inside: /usr, or its prefix). */
async function startNode(script: string, over: Partial<SandboxSpec> = {}): Promise<Ran> {
  const sandbox = await driver.start({
    instanceId: `t${seq++}`,
    argv: [process.execPath, "-e", script],
    env: { HOME: "/tmp" },
    mounts: freshMounts(),
    memoryMb: 256,
    ...over,
  });
  let out = "";
  let err = "";
  sandbox.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  sandbox.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return { sandbox, stdout: () => out, stderr: () => err };
}

/** Host processes by pid: parent and state, from /proc/<pid>/stat. */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), { state: fields[0]!, ppid: Number(fields[1]) });
    } catch {
      // Exited meanwhile.
    }
  }
  return table;
}

/** `pid` and every live process under it. */
function tree(pid: number): number[] {
  const table = processTable();
  const found = [pid];
  for (let i = 0; i < found.length; i++)
    for (const [p, info] of table) if (info.ppid === found[i] && info.state !== "Z") found.push(p);
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Live processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").includes(text) && alive(Number(name)))
        found.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Containers runsc still holds state for under a driver's state directory. */
function containersIn(state: string): string[] {
  const list = spawnSync("runsc", ["--root", join(state, "runsc"), "list", "-quiet"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  assert.equal(list.status, 0, `runsc list: ${list.stderr}`);
  return list.stdout.toString().split("\n").filter(Boolean);
}

/** The host's cgroup v1 directory of a process for one controller. */
function cgroupOf(pid: number, controller: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "latin1")
    .split("\n")
    .find((l) => l.split(":")[1]?.split(",").includes(controller));
  assert.ok(line, `no ${controller} line in /proc/${pid}/cgroup`);
  return join("/sys/fs/cgroup", controller, line.split(":")[2]!);
}

/** A Unix socket listening in `dir`, writable by anyone as the worker's Runtime API sockets are. */
async function listenIn(dir: string, name: string, onConnection: (s: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  const path = join(dir, name);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, 0o666);
  return server;
}

test("runsc, setpriv and unshare are here and a sandbox starts (CI installs runsc)", () => {
  assert.equal(gvisorProblem(), undefined);
  assert.match(gvisorProblem("/nonexistent/runsc") ?? "", /not installed/);
  assert.equal(driver.name, "gvisor");
  assert.equal(driver.privateFilesystem, true);
  assert.equal(driver.uniqueUids, isRoot);
  assert.equal(driver.limitsMemory, isRoot);
  if (isRoot) assert.deepEqual(driver.warnings, []);
  const m = freshMounts();
  assert.deepEqual(driver.paths({ ...m, snapshot: join(root, "blob") }), {
    code: "/var/task",
    runtime: "/var/runtime",
    tmp: "/tmp",
    api: "/run/nimbus",
    out: "/var/out",
    snapshot: "/var/snapshot.blob",
  });
});

test("output comes back on both streams; the environment is exactly spec.env; its own uid", async () => {
  process.env.NIMBUS_GVISOR_TEST_SECRET = "platform-only";
  // No HOME in it: gVisor would add one.
  const env = { LANG: "C.UTF-8", WITH_EQUALS: "a=b=c", UNICODE: "žluťoučký" };
  const r = await startNode(
    `console.log(JSON.stringify({ env: process.env, uid: process.getuid(), gid: process.getgid(), cwd: process.cwd() }));
     console.error("to stderr");`,
    { env },
  );
  const exit = await r.sandbox.exited;
  delete process.env.NIMBUS_GVISOR_TEST_SECRET;
  assert.deepEqual(exit, { code: 0, signal: null }, r.stderr());
  const seen = JSON.parse(r.stdout());
  assert.deepEqual(seen.env, env);
  assert.equal(seen.cwd, "/var/task");
  assert.equal(r.stderr(), "to stderr\n");
  assert.equal(r.sandbox.outOfMemory(), false);
  if (isRoot) {
    assert.notEqual(seen.uid, 0);
    assert.equal(seen.uid, r.sandbox.uid);
    assert.equal(seen.gid, r.sandbox.uid);
    assert.ok(seen.uid >= 200_000, `a sandbox uid, got ${seen.uid}`);
  } else {
    // Rootless: root inside, the platform's own user (without capabilities) on the host.
    assert.equal(seen.uid, 0);
    assert.equal(r.sandbox.uid, undefined);
  }
});

test("/var/task and /var/runtime are read-only, /tmp is private and sized, little else of the host is there", async () => {
  const mounts = freshMounts();
  // Writable by anyone on the host: only the read-only mount can stop a write.
  chmodSync(mounts.code, 0o777);
  writeFileSync(join(mounts.runtime, "rt.txt"), "runtime file");
  const mark = `mark-${process.pid}-${seq}`;
  const script = `
    const fs = require("node:fs");
    const tryWrite = (p, bytes = 1) => { try { fs.writeFileSync(p, Buffer.alloc(bytes, 1)); return "ok"; } catch (e) { return e.code; } };
    console.log(JSON.stringify({
      task: tryWrite("/var/task/x"),
      runtime: tryWrite("/var/runtime/x"),
      runtimeRead: fs.readFileSync("/var/runtime/rt.txt", "utf8"),
      tmp: tryWrite("/tmp/${mark}"),
      tmpFull: tryWrite("/tmp/big", 16 * 1048576),
      shm: tryWrite("/dev/shm/x"),
      root: fs.readdirSync("/").sort(),
      etc: fs.readdirSync("/etc").sort(),
      hostTmp: fs.existsSync(${JSON.stringify(root)}),
    }));`;
  const r = await startNode(script, { mounts, tmpMb: 8 });
  assert.deepEqual(await r.sandbox.exited, { code: 0, signal: null }, r.stderr());
  const seen = JSON.parse(r.stdout());
  assert.ok(["EROFS", "EACCES"].includes(seen.task), `writing /var/task: ${seen.task}`);
  assert.ok(["EROFS", "EACCES"].includes(seen.runtime), `writing /var/runtime: ${seen.runtime}`);
  assert.equal(existsSync(join(mounts.code, "x")), false);
  assert.equal(seen.runtimeRead, "runtime file");
  assert.equal(seen.tmp, "ok");
  assert.equal(seen.tmpFull, "ENOSPC", "/tmp is as big as tmpMb");
  assert.equal(seen.shm, "ok");
  assert.deepEqual(seen.etc, ["ca-certificates", "ssl"]);
  assert.equal(seen.hostTmp, false, "the host's directories are not there");
  const allowed = ["bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys"];
  allowed.push("tmp", "usr", "var", process.execPath.split("/")[1]!);
  for (const name of seen.root) assert.ok(allowed.includes(name), `/${name} is in the sandbox's root`);
  // Its /tmp is its own: not on the host, not in the next sandbox.
  assert.deepEqual(readdirSync(mounts.tmp), []);
  assert.equal(existsSync(join("/tmp", mark)), false);
  const next = await startNode(`console.log(require("node:fs").existsSync("/tmp/${mark}"))`);
  assert.deepEqual(await next.sandbox.exited, { code: 0, signal: null }, next.stderr());
  assert.equal(next.stdout().trim(), "false");
});

test("no network: the host's loopback and other addresses cannot be reached", async () => {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
  try {
    const r = await startNode(`
      const net = require("node:net");
      const attempt = (host) => new Promise((resolve) => {
        const s = net.connect(${port}, host);
        s.setTimeout(2000, () => { s.destroy(); resolve("timeout"); });
        s.on("connect", () => { s.destroy(); resolve("connected"); });
        s.on("error", (e) => resolve(e.code));
      });
      (async () => console.log(JSON.stringify({
        loopback: await attempt("127.0.0.1"),
        external: ${external ? `await attempt(${JSON.stringify(external)})` : '"none"'},
        interfaces: Object.keys(require("node:os").networkInterfaces()),
      })))();`);
    assert.deepEqual(await r.sandbox.exited, { code: 0, signal: null }, r.stderr());
    const seen = JSON.parse(r.stdout());
    assert.equal(seen.loopback, "ECONNREFUSED", "its loopback is its own");
    assert.notEqual(seen.external, "connected");
    assert.deepEqual(seen.interfaces, ["lo"]);
    assert.equal(connections, 0);
  } finally {
    server.close();
  }
});

test("it reaches a Unix socket in mounts.api at /run/nimbus; sees code added later; writes /var/out as its uid", async () => {
  const mounts = freshMounts();
  const blob = join(root, `blob-${seq++}`);
  writeFileSync(blob, "snapshot bytes");
  let heard = "";
  const server = await listenIn(mounts.api, "test.sock", (s) => {
    s.on("data", (d) => {
      heard += d.toString();
      // A pooled runtime's code arrives after it started: linked into its code directory.
      writeFileSync(join(mounts.code, "late.txt"), "late code");
      s.end("pong");
    });
  });
  try {
    const r = await startNode(
      `const fs = require("node:fs");
       const s = require("node:net").connect("/run/nimbus/test.sock", () => s.write("ping"));
       s.on("error", (e) => { console.log("error " + e.code); process.exit(3); });
       s.on("data", (d) => {
         fs.writeFileSync("/var/out/result.txt", "out");
         console.log(JSON.stringify({ reply: d.toString(), late: fs.readFileSync("/var/task/late.txt", "utf8"),
           blob: fs.readFileSync("/var/snapshot.blob", "utf8") }));
       });`,
      { mounts: { ...mounts, snapshot: blob } },
    );
    assert.deepEqual(await r.sandbox.exited, { code: 0, signal: null }, r.stdout() + r.stderr());
    assert.equal(heard, "ping");
    assert.deepEqual(JSON.parse(r.stdout()), { reply: "pong", late: "late code", blob: "snapshot bytes" });
    const out = statSync(join(mounts.out, "result.txt"));
    assert.equal(out.uid, r.sandbox.uid ?? process.getuid?.());
  } finally {
    server.close();
  }
});

test("memory: the group bounds the whole sandbox, resize changes it, beyond it outOfMemory()", async (ctx) => {
  if (!isRoot) {
    ctx.diagnostic("control groups need root: only the driver's word that it cannot bound memory is checked");
    assert.equal(driver.limitsMemory, false);
    assert.ok(driver.warnings.some((w) => w.includes("control groups need root")));
    return;
  }
  const mounts = freshMounts();
  const lines: string[] = [];
  let conn: Socket | undefined;
  const server = await listenIn(mounts.api, "ctl.sock", (s) => {
    conn = s;
    s.on("data", (d) => lines.push(...d.toString().split("\n").filter(Boolean)));
  });
  try {
    // Started small and in the background, as a pooled runtime is; each line asks for N MB more.
    const r = await startNode(
      `const kept = [];
       const s = require("node:net").connect("/run/nimbus/ctl.sock", () => s.write("total " + require("node:os").totalmem() + "\\n"));
       s.on("data", (d) => { for (const n of d.toString().split("\\n").filter(Boolean)) {
         kept.push(Buffer.alloc(Number(n) * 1048576, 1)); s.write("ok " + n + "\\n"); } });`,
      { mounts, memoryMb: 128, background: true },
    );
    await r.sandbox.limited;
    await until("the sandbox connects", () => lines.length > 0, 10_000);
    // Its memory is not sized by the limit it started with (a pooled sandbox grows at hand-over).
    const total = Number(lines[0]!.split(" ")[1]);
    assert.ok(total > 1024 * 1048576, `the sandbox sees ${total} bytes of memory`);
    const pids = tree(r.sandbox.pid);
    assert.ok(pids.length >= 4, `runsc run, gofer, sandbox and a stub at least: ${pids}`);
    const group = cgroupOf(r.sandbox.pid, "memory");
    assert.match(group, /\/nimbus\//);
    for (const pid of pids) assert.equal(cgroupOf(pid, "memory"), group, `process ${pid} is in the group`);
    const limit = () => Number(readFileSync(join(group, "memory.limit_in_bytes"), "latin1"));
    assert.equal(limit(), 128 * 1048576);
    r.sandbox.resize(384);
    assert.equal(limit(), 384 * 1048576);
    conn!.write("200\n");
    await until("200 MB are allocated", () => lines.includes("ok 200"), 10_000);
    const peak = r.sandbox.peakMemoryMb();
    assert.ok(peak !== undefined && peak >= 200 && peak <= 384, `peak ${peak} MB after 200 MB`);
    assert.equal(r.sandbox.outOfMemory(), false);
    conn!.write("300\n");
    const exit = await r.sandbox.exited;
    assert.equal(lines.includes("ok 300"), false);
    assert.notDeepEqual(exit, { code: 0, signal: null });
    assert.equal(r.sandbox.outOfMemory(), true);
    const oomPeak = r.sandbox.peakMemoryMb();
    assert.ok(oomPeak !== undefined && oomPeak >= 340, `what it reached: ${oomPeak} MB`);
  } finally {
    server.close();
  }
});

test("kill() ends it at once and leaves no process, container or bundle of it", async () => {
  const instanceId = `kill-${process.pid}`;
  const r = await startNode(`console.log("ready"); setInterval(() => {}, 1000);`, { instanceId });
  await until("the sandbox is up", () => r.stdout().includes("ready"), 10_000);
  const pids = tree(r.sandbox.pid);
  assert.ok(pids.length >= 4, `runsc run, gofer, sandbox and a stub at least: ${pids}`);
  assert.equal(containersIn(stateDir).length, 1);
  // runsc's control socket answers whoever connects: it must not be in the host's network
  // namespace (abstract Unix sockets are per network namespace), only in runsc run's own.
  const control = `@runsc-sandbox.${instanceId}-`;
  assert.ok(readFileSync(`/proc/${r.sandbox.pid}/net/unix`, "latin1").includes(control));
  assert.equal(readFileSync("/proc/self/net/unix", "latin1").includes(control), false);
  if (isRoot) {
    // The CPU quota covers the whole sandbox too: 1,769 MB is one CPU, 20 ms per 20 ms period.
    r.sandbox.resize(1769);
    r.sandbox.limitCpu();
    const cpu = cgroupOf(r.sandbox.pid, "cpu");
    for (const pid of pids) assert.equal(cgroupOf(pid, "cpu"), cpu, `process ${pid} is in the cpu group`);
    assert.equal(readFileSync(join(cpu, "cpu.cfs_quota_us"), "latin1").trim(), "20000");
  }
  const killedAt = performance.now();
  r.sandbox.kill();
  const exit = await r.sandbox.exited;
  assert.ok(performance.now() - killedAt < 3000, "exited within 3 s of kill()");
  assert.equal(exit.code === 0, false);
  for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} is gone`);
  await until(
    "its container and bundle are deleted",
    () => containersIn(stateDir).length === 0 && readdirSync(join(stateDir, "bundles")).length === 0,
    10_000,
  );
  await until("no runsc process is left for it", () => processesMentioning(stateDir).length === 0);
});

test("a missing entrypoint rejects start; one runsc cannot load exits with its error", async () => {
  const mounts = freshMounts();
  writeFileSync(join(mounts.code, "garbage"), "not a program", { mode: 0o755 });
  writeFileSync(join(mounts.code, "plain"), "#!/bin/sh\n", { mode: 0o644 });
  const spec = { instanceId: `t${seq++}`, env: { HOME: "/tmp" }, mounts, memoryMb: 128 };
  await assert.rejects(
    driver.start({ ...spec, argv: ["/var/task/missing"] }),
    (e) => e instanceof SandboxStartError && e.code === "ENOENT",
  );
  await assert.rejects(
    driver.start({ ...spec, argv: ["/var/task/plain"] }),
    (e) => e instanceof SandboxStartError && e.code === "EACCES",
  );
  const sandbox = await driver.start({ ...spec, argv: ["/var/task/garbage"] });
  let err = "";
  sandbox.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  sandbox.stdout.resume();
  const exit = await sandbox.exited;
  assert.notEqual(exit.code, 0);
  assert.match(err, /exec format error/);
  await until(
    "its container and bundle are deleted",
    () => containersIn(stateDir).length === 0 && readdirSync(join(stateDir, "bundles")).length === 0,
    10_000,
  );
});

test("when the platform is killed (SIGKILL), nothing of its sandbox survives; the next driver removes the rest", async () => {
  const state = join(root, `platform-state-${seq++}`);
  const mounts = freshMounts();
  const script = join(root, "platform.mjs");
  writeFileSync(
    script,
    `import { GvisorDriver } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, "gvisor.js")).href)};
     const driver = new GvisorDriver({ nodeBinary: process.execPath, stateDir: ${JSON.stringify(state)} });
     const sandbox = await driver.start({ instanceId: "orphan", env: { HOME: "/tmp" }, memoryMb: 128,
       mounts: ${JSON.stringify(mounts)},
       argv: [process.execPath, "-e", "console.log('ready'); setInterval(() => {}, 1000)"] });
     sandbox.stdout.once("data", () => console.log(JSON.stringify({ pid: sandbox.pid })));
     setInterval(() => {}, 1000);`,
  );
  const platform = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(platform.stdout, "data")) as [Buffer];
  const { pid } = JSON.parse(line.toString()) as { pid: number };
  const pids = tree(pid);
  assert.ok(pids.length >= 4, `runsc run, gofer, sandbox and a stub at least: ${pids}`);
  platform.kill("SIGKILL");
  await once(platform, "exit");
  await until("every process of the sandbox is gone", () => pids.every((p) => !alive(p)), 10_000);
  assert.deepEqual(processesMentioning(state), []);
  // Its container's state is left behind, and removed by the next driver on the directory,
  // which must not kill the processes it names: by then their pids may be others'. (runsc's
  // own `delete --force` would: here a victim takes the place of both.)
  assert.deepEqual(containersIn(state).length, 1);
  const victim = spawn("sleep", ["60"], { stdio: "ignore" });
  try {
    const runscRoot = join(state, "runsc");
    for (const name of readdirSync(runscRoot).filter((n) => n.endsWith(".state"))) {
      const saved = JSON.parse(readFileSync(join(runscRoot, name), "utf8"));
      assert.equal(typeof saved.sandbox.pid, "number", "this runsc's state names its sandbox's pid");
      saved.sandbox.pid = victim.pid;
      saved.goferPid = victim.pid;
      writeFileSync(join(runscRoot, name), JSON.stringify(saved));
    }
    const next = new GvisorDriver({ nodeBinary: process.execPath, stateDir: state });
    assert.equal(next.name, "gvisor");
    assert.deepEqual(containersIn(state), []);
    assert.deepEqual(readdirSync(join(state, "bundles")), []);
    assert.equal(alive(victim.pid!), true, "the process with the stale pids lives");
  } finally {
    victim.kill("SIGKILL");
  }
});
