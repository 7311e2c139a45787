import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { JailDriver, jailProblem } from "./sandbox/jail.js";
import { ProcessDriver } from "./sandbox/process.js";
import type { SandboxDriver } from "./sandbox/types.js";
import { buildSnapshot } from "./snapshot.js";

const root = mkdtempSync(join(tmpdir(), "nimbus-snapshot-"));
// Sandboxes run as their own uids when the tests run as root: they must traverse this.
chmodSync(root, 0o711);
after(() => rm(root, { recursive: true, force: true }));
const processDriver = new ProcessDriver({ workRoot: root, isolateUsers: "auto", cgroups: "auto" });
const jail = jailProblem() === undefined ? new JailDriver({ nodeBinary: process.execPath }) : undefined;
const runtimeEntry = resolve(fileURLToPath(import.meta.url), "../../../runtime/node/bootstrap.cjs");
let n = 0;

/** Builds a snapshot of a function made of `files`, its handler `index.handler`. */
function build(files: Record<string, string>, timeoutMs = 10_000, driver: SandboxDriver = processDriver) {
  const dir = join(root, `f${n++}`);
  const code = join(dir, "code");
  const tmp = join(dir, "tmp");
  const out = join(dir, "out");
  mkdirSync(dir, { mode: 0o711 });
  mkdirSync(code, { mode: 0o755 });
  mkdirSync(tmp, { mode: 0o700 });
  mkdirSync(out, { mode: 0o700 });
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(code, name), content, { mode: 0o644 });
  return buildSnapshot({
    driver,
    nodeBinary: process.execPath,
    nodeFlags: [],
    runtimeEntry,
    runtimeDir: dirname(dirname(runtimeEntry)),
    codeDir: code,
    handler: "index.handler",
    env: { PATH: "/usr/bin:/bin", TMPDIR: tmp, HOME: tmp },
    workDir: join(dir, "snapshot"),
    tmpDir: tmp,
    outDir: out,
    memoryMb: 512,
    timeoutMs,
  });
}

// The init computes for 400 ms and keeps a small result: the snapshot stays small, so its
// restore beats the init by a wide margin even on a loaded machine (a large heap built in
// the same time restores more slowly, and the margin then depends on how busy the CPU is).
test("a function whose init spends 400 ms restores from its snapshot faster than it initialises", async () => {
  const result = await build({
    "index.mjs": `import { createHash } from "node:crypto";
const until = Date.now() + 400;
let rounds = 0;
let digest = "";
while (Date.now() < until) digest = createHash("sha256").update(digest + rounds++).digest("hex");
export const handler = async () => ({ rounds, digest });`,
  });
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.ok(result.initMs >= 400, `the plain init ran: ${result.initMs} ms`);
  assert.ok(
    result.faster && result.restoreMs < result.initMs,
    `restore ${result.restoreMs} ms, init ${result.initMs} ms`,
  );
  assert.equal(statSync(result.blob).mode & 0o777, 0o444);
});

test("a function that cannot be one CommonJS file, or whose init never finishes, gets no snapshot and a reason", async () => {
  const tla = await build({ "index.mjs": `await Promise.resolve();\nexport const handler = async () => 1;` });
  assert.equal(tla.ok, false);
  assert.match(tla.ok ? "" : tla.reason, /cannot be bundled into one CommonJS file: .*[Tt]op-level await/);

  const hanging = await build(
    { "index.mjs": `setInterval(() => {}, 1000);\nexport const handler = async () => 1;` },
    1500,
  );
  assert.equal(hanging.ok, false);
  assert.match(hanging.ok ? "" : hanging.reason, /did not finish within 1500 ms/);

  const missing = await build({ "index.mjs": `export const other = 1;` });
  assert.equal(missing.ok, false);
  assert.match(missing.ok ? "" : missing.reason, /handler is not a function exported/);
});

for (const [name, driver] of [
  ["process", processDriver],
  ["jail", jail],
] as const) {
  test(`a build whose init swaps the blob for a link to a root-only file gains nothing (${name} driver)`, async () => {
    assert.ok(driver, `the jail cannot run here: ${jailProblem()}`);
    const secret = join(root, `secret-${name}`);
    writeFileSync(secret, "platform secret", { mode: 0o600 });
    // The init leaves a detached process behind that replaces the blob with a symbolic link
    // once the build has written it.
    const result = await build(
      {
        "index.js": `const { spawn } = require("node:child_process");
const out = process.argv[process.argv.indexOf("--snapshot-blob") + 1];
if (out) spawn("/bin/sh", ["-c", "sleep 0.3; rm -f '" + out + "'; ln -s ${secret} '" + out + "'"], { detached: true, stdio: "ignore" }).unref();
exports.handler = async () => 1;`,
      },
      10_000,
      driver,
    );
    // Whatever the build reports, the platform's file is untouched and nothing links to it.
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    assert.equal(readFileSync(secret, "utf8"), "platform secret");
    if (result.ok) {
      assert.ok(statSync(result.blob).isFile());
      assert.notEqual(readFileSync(result.blob, "utf8"), "platform secret");
    }
  });
}
