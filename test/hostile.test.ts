/**
 * End to end: hostile functions against the sandboxes. Each attack runs in a function of its
 * own; after each, a neighbour function must still answer and the attack must have failed.
 * The jail (the default here) and gVisor are held to every attack; the process driver to those
 * it claims to stop (uids, control groups, a private data directory).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  InvokeCommand,
  PublishVersionCommand,
  waitUntilPublishedVersionActive,
} from "@aws-sdk/client-lambda";
import { NimbusClient, resolveClientOptions } from "../src/cli/client.js";
import { processOwners, SANDBOX_UID_BASE } from "../src/worker/sandbox/uids.js";
import { exited, nimbus, startUp } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

const SECRET = `victim-secret-${Math.random().toString(36).slice(2)}`;
const CODE_MARK = `victim-code-${Math.random().toString(36).slice(2)}`;

/** The victim keeps a secret in its environment, its code, its /tmp and its snapshot. */
const VICTIM = `import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
const mark = "${CODE_MARK}";
writeFileSync(tmpdir() + "/secret.txt", process.env.SECRET);
export const handler = async () => ({ mark, pid: process.pid });`;

/** One function, many attacks: the event names one and its target. */
const ATTACKER = `import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
const attempt = (fn) => { try { return { ok: fn() ?? true }; } catch (e) { return { code: e.code }; } };
const skip = new Set(["/usr", "/proc", "/sys", "/dev", "/bin", "/lib", "/lib64", "/sbin"]);
function sweep(dir, needles, found, budget) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    if (budget.n-- <= 0) return;
    const p = join(dir, e.name);
    if (skip.has(p)) continue;
    if (e.isDirectory()) sweep(p, needles, found, budget);
    else if (e.isFile()) {
      try {
        const s = readFileSync(p).toString("latin1");
        for (const n of needles) if (s.includes(n)) found.push(p);
      } catch {}
    }
  }
}
const tryConnect = (host, port) => new Promise((resolve) => {
  const s = connect({ host, port, timeout: 2000 });
  s.on("connect", () => { s.destroy(); resolve({ ok: true }); });
  s.on("timeout", () => { s.destroy(); resolve({ code: "TIMEOUT" }); });
  s.on("error", (e) => resolve({ code: e.code }));
});
export const handler = async (e) => {
  switch (e.action) {
    case "sweep": {
      // Every file this sandbox can see, searched for the victim's secrets; and every
      // process's environment and command line in its /proc.
      const found = [];
      sweep("/", e.needles, found, { n: 20000 });
      for (const pid of readdirSync("/proc").filter((n) => Number(n) > 0)) {
        for (const f of ["environ", "cmdline"]) {
          try {
            const s = readFileSync("/proc/" + pid + "/" + f).toString("latin1");
            for (const n of e.needles) if (s.includes(n)) found.push("/proc/" + pid + "/" + f);
          } catch {}
        }
      }
      return { found, processes: readdirSync("/proc").filter((n) => Number(n) > 0).length };
    }
    case "read": return attempt(() => readFileSync(e.path, "utf8").slice(0, 100));
    case "list": return attempt(() => readdirSync(e.path));
    case "signal": return attempt(() => process.kill(e.pid, 0));
    case "ptrace": {
      // PTRACE_ATTACH (16) through perl's syscall: the errno tells what stopped it.
      const r = spawnSync("/usr/bin/perl", ["-e", "syscall(101, 16, " + e.pid + ", 0, 0) == -1 ? print $!+0 : print 0"]);
      return { errno: Number(r.stdout.toString() || -1) };
    }
    case "connect": return tryConnect(e.host, e.port);
    case "fill-tmp": {
      const chunk = Buffer.alloc(16 * 1024 * 1024, 1);
      let written = 0;
      const r = attempt(() => { for (let i = 0; i < e.chunks; i++) { writeFileSync("/tmp/fill-" + i, chunk); written += chunk.length; } });
      return { ...r, writtenMb: written / 1024 / 1024 };
    }
    case "fork": {
      const errors = {};
      let started = 0;
      await Promise.all(Array.from({ length: e.count }, () => new Promise((resolve) => {
        const c = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
        c.on("spawn", () => { started++; resolve(); });
        c.on("error", (err) => { errors[err.code] = (errors[err.code] ?? 0) + 1; resolve(); });
      })));
      return { started, errors };
    }
    case "shm": return attempt(() => { writeFileSync("/dev/shm/" + e.name, "x".repeat(1024)); return statSync("/dev/shm/" + e.name).size; });
    case "detach": {
      const c = spawn("/bin/sleep", ["1000"], { detached: true, stdio: "ignore" });
      c.unref();
      return { uid: process.getuid() };
    }
  }
};`;

for (const sandbox of ["jail", "gvisor", "process"] as const) {
  describe(`hostile functions (${sandbox} driver)`, () => {
    let t: TestPlatform;
    // The jail and gVisor give each instance a view of its own; the process driver does not.
    const jailed = sandbox !== "process";
    before(async () => {
      t = await startPlatform({ sandbox, poolSize: 0 });
      await createNodeFunction(t.lambda, "neighbour", `export const handler = async (e) => ({ echo: e });`);
      await createNodeFunction(t.lambda, "victim", VICTIM, {
        Environment: { Variables: { SECRET } },
        SnapStart: { ApplyOn: "PublishedVersions" },
      });
      await createNodeFunction(t.lambda, "attacker", ATTACKER, { MemorySize: 1024, Timeout: 60 });
      // The fork bomb runs in a function of its own: the attacks after it meet a fresh instance.
      // Under gVisor's ptrace platform every fork is many trips through the tracer: it gets two
      // vCPUs' share to reach the limit within its timeout.
      await createNodeFunction(t.lambda, "bomber", ATTACKER, {
        MemorySize: sandbox === "gvisor" ? 3538 : 1024,
        Timeout: sandbox === "gvisor" ? 120 : 60,
      });
      // The victim is running (its /tmp written), and has a published version with a snapshot.
      await call("victim");
      const v = await t.lambda.send(new PublishVersionCommand({ FunctionName: "victim" }));
      await waitUntilPublishedVersionActive(
        { client: t.lambda, maxWaitTime: 60 },
        { FunctionName: "victim", Qualifier: v.Version },
      );
      await call("victim", {}, v.Version);
    });
    after(async () => {
      await t?.close();
    });

    async function call(name: string, payload: unknown = {}, qualifier?: string) {
      const out = await t.lambda.send(
        new InvokeCommand({
          FunctionName: name,
          Payload: JSON.stringify(payload),
          ...(qualifier ? { Qualifier: qualifier } : {}),
        }),
      );
      assert.equal(out.FunctionError, undefined, `${name} failed: ${text(out.Payload)}`);
      return JSON.parse(text(out.Payload));
    }

    /** Runs an attack, then checks that the neighbour and the platform are unharmed. */
    async function attack(payload: Record<string, unknown>, attacker = "attacker") {
      const result = await call(attacker, payload);
      assert.deepEqual(await call("neighbour", { n: 1 }), { echo: { n: 1 } });
      return result;
    }

    // The process driver shares the host's filesystem view, network, /tmp and /dev/shm: what it
    // holds is the uid and control-group tests below, and the private data directory.
    const jailOnly = jailed ? test : () => {};

    jailOnly(
      "it cannot find the victim's environment, code, /tmp or snapshot anywhere it can see",
      async () => {
        const seen = await attack({ action: "sweep", needles: [SECRET, CODE_MARK] });
        assert.deepEqual(seen.found, []);
        assert.equal(seen.processes, 1, "its /proc shows its own process only");
      },
    );

    test("it cannot read the data directory: the database, packages, credentials", async () => {
      for (const name of ["nimbus.db", "credentials.json", "packages"]) {
        const path = `${t.dataDir}/${name}`;
        const r = await attack({ action: name === "packages" ? "list" : "read", path });
        // The jail has no such path; elsewhere the directory is private to the platform.
        assert.deepEqual(r, { code: jailed ? "ENOENT" : "EACCES" }, path);
      }
    });

    test("it cannot signal or trace the platform or a neighbour's instance", async () => {
      const neighbour = t.platform.worker.instancePids()[0];
      assert.ok(neighbour);
      for (const pid of [process.pid, neighbour]) {
        const sent = await attack({ action: "signal", pid });
        // In the jail no host pid names anything; elsewhere other uids' processes are off limits.
        assert.deepEqual(sent, { code: jailed ? "ESRCH" : "EPERM" });
        const traced = await attack({ action: "ptrace", pid });
        if (sandbox === "gvisor")
          // gVisor's own kernel answers: no such process in the sandbox.
          assert.equal(traced.errno, 3, "ESRCH");
        else assert.equal(traced.errno, 1, "EPERM: refused by the seccomp filter or by the kernel");
      }
    });

    jailOnly("it cannot reach the control plane, PostgreSQL or any outside address", async () => {
      const port = Number(new URL(t.url).port);
      assert.deepEqual(await attack({ action: "connect", host: "127.0.0.1", port }), {
        code: "ECONNREFUSED",
      });
      assert.deepEqual(await attack({ action: "connect", host: "127.0.0.1", port: 5432 }), {
        code: "ECONNREFUSED",
      });
      // A documentation address (TEST-NET-1): the jail has no route, so nothing is sent.
      assert.deepEqual(await attack({ action: "connect", host: "192.0.2.1", port: 443 }), {
        // gVisor's network stack, with no interface but its loopback, says it differently.
        code: sandbox === "gvisor" ? "EHOSTUNREACH" : "ENETUNREACH",
      });
    });

    jailOnly("filling /tmp stops at its size (EphemeralStorage)", async () => {
      const r = await attack({ action: "fill-tmp", chunks: 40 });
      assert.equal(r.code, "ENOSPC");
      assert.ok(r.writtenMb <= 512, `${r.writtenMb} MB written`);
      assert.ok(r.writtenMb >= 400, `${r.writtenMb} MB written before the limit`);
    });

    test("forking past the pids limit fails inside the instance only", async () => {
      const r = await attack({ action: "fork", count: 1100 }, "bomber");
      assert.ok(r.started < 1024, `${r.started} processes started`);
      assert.ok((r.errors.EAGAIN ?? 0) > 0, JSON.stringify(r.errors));
    });

    jailOnly("its /dev/shm is its own and goes with the instance", async () => {
      const name = `nimbus-hostile-${Math.random().toString(36).slice(2)}`;
      assert.deepEqual(await attack({ action: "shm", name }), { ok: 1024 });
      assert.equal(existsSync(`/dev/shm/${name}`), false, "nothing of it reaches the host's /dev/shm");
    });
  });
}

test("a detached child left behind dies with its jail when the platform is killed with SIGKILL", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-hostile-"));
  const fnDir = mkdtempSync(join(tmpdir(), "nimbus-hostile-fn-"));
  writeFileSync(
    join(fnDir, "index.mjs"),
    `import { spawn } from "node:child_process";
export const handler = async () => {
  spawn("/bin/sh", ["-c", "setsid /bin/sleep 1000 & /bin/sleep 1001"], { detached: true, stdio: "ignore" }).unref();
  return process.getuid();
};`,
  );
  const up = startUp(dataDir, "--sandbox", "jail", "--pool-size", "0");
  try {
    await up.out.waitFor(/Nimbus is running at/);
    assert.equal((await nimbus(dataDir, "deploy", fnDir, "--name", "leaver")).code, 0);
    const client = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));
    const res = await client.request("POST", "/2015-03-31/functions/leaver/invocations", { body: "{}" });
    const uid = Number(await res.text());
    assert.ok(uid >= SANDBOX_UID_BASE, `it ran as a sandbox uid: ${uid}`);
    const sleepers = () => processOwners().filter(([pid, owner]) => owner === uid && isSleep(pid)).length;
    await until(() => sleepers() === 2);
    up.child.kill("SIGKILL");
    await exited(up.child);
    // Nothing waits for a restart: the jail's pid 1 died with bubblewrap, which died with the platform.
    await until(() => sleepers() === 0, 5000);
  } finally {
    up.child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
    await rm(fnDir, { recursive: true, force: true });
  }
});

function isSleep(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep";
  } catch {
    return false;
  }
}
