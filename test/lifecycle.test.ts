/**
 * Starting and stopping the platform as users do: one platform per data directory, a clear
 * refusal when the port or the directory is taken, and signals that reach the platform
 * however it was started (`npm start` included), leaving nothing running behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { cliEnv, exited, nimbus, output, startUp } from "./helpers/cli.js";
import { alive, until } from "./helpers/wait.js";

const dirs: string[] = [];
const children: Array<ReturnType<typeof startUp>["child"]> = [];

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "nimbus-life-"));
  dirs.push(d);
  return d;
}

function up(dir: string, ...flags: string[]) {
  const started = startUp(dir, ...flags);
  children.push(started.child);
  return started;
}

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

test("a second platform on the same data directory refuses to start, naming the first, which keeps serving", async () => {
  const dir = dataDir();
  const first = up(dir);
  const [, url] = await first.out.waitFor(/Nimbus is running at (http:\/\/\S+)/);
  const second = await nimbus(dir, "up", "--port", "0", "--data", dir);
  assert.equal(second.code, 3, second.stderr);
  assert.match(second.stderr, new RegExp(`data directory ${dir} is in use by another Nimbus platform`));
  assert.match(second.stderr, new RegExp(`pid ${first.child.pid}, ${url!.replace(/[.]/g, "\\.")}`));
  assert.match(second.stderr, /--data/);
  const res = await fetch(`${url}/2015-03-31/functions/`);
  assert.equal(res.status, 403, "the first platform still answers, and refuses an unsigned request");
  first.child.kill("SIGTERM");
  assert.equal(await exited(first.child), 0);
  // Released: the directory starts again.
  const again = up(dir);
  await again.out.waitFor(/Nimbus is running at/);
  again.child.kill("SIGTERM");
  assert.equal(await exited(again.child), 0);
});

test("a platform killed with SIGKILL does not keep its data directory from the next start", async () => {
  const dir = dataDir();
  const first = up(dir);
  await first.out.waitFor(/Nimbus is running at/);
  first.child.kill("SIGKILL");
  await exited(first.child);
  const next = up(dir);
  await next.out.waitFor(/Nimbus is running at/);
  next.child.kill("SIGTERM");
  assert.equal(await exited(next.child), 0);
});

test("a busy port: a clear error, exit code 3, and nothing left running", async () => {
  const first = up(dataDir());
  const [, url] = await first.out.waitFor(/Nimbus is running at (http:\/\/\S+)/);
  const port = new URL(url!).port;
  const dir = dataDir();
  const started = Date.now();
  const second = await nimbus(dir, "up", "--port", port, "--data", dir);
  assert.equal(second.code, 3, second.stderr);
  assert.match(second.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
  assert.match(second.stderr, /--port/);
  assert.ok(Date.now() - started < 15_000, "it exits instead of hanging");
  first.child.kill("SIGTERM");
  await exited(first.child);
});

test("under npm start, SIGTERM or SIGINT sent to npm stops the platform cleanly", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const dir = dataDir();
    // --ignore-scripts: the build (prestart) is done already; `start` itself still runs.
    const npm = spawn("npm", ["start", "--ignore-scripts", "--", "--port", "0", "--data", dir], {
      cwd: resolve("."),
      env: cliEnv(dir),
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(npm);
    const out = output(npm);
    await out.waitFor(/Nimbus is running at/, 30_000);
    const platform = childrenOf(npm.pid!);
    assert.equal(platform.length, 1, "npm runs the platform as its own child (no shell between)");
    npm.kill(signal);
    await out.waitFor(/Nimbus stopped/);
    await exited(npm);
    await until(() => !alive(platform[0]!), 5000);
  }
});

test("under npm start, the platform stops by itself when npm is killed with SIGKILL", async () => {
  const dir = dataDir();
  const npm = spawn("npm", ["start", "--ignore-scripts", "--", "--port", "0", "--data", dir], {
    cwd: resolve("."),
    env: cliEnv(dir),
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(npm);
  const out = output(npm);
  await out.waitFor(/Nimbus is running at/, 30_000);
  const [platform] = childrenOf(npm.pid!);
  assert.ok(platform);
  npm.kill("SIGKILL");
  await until(() => !alive(platform), 10_000);
});
