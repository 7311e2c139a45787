import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ProcessDriver } from "./sandbox/process.js";
import { buildSnapshot } from "./snapshot.js";

const root = mkdtempSync(join(tmpdir(), "nimbus-snapshot-"));
// Sandboxes run as their own uids when the tests run as root: they must traverse this.
chmodSync(root, 0o711);
after(() => rm(root, { recursive: true, force: true }));
const driver = new ProcessDriver({ workRoot: root, isolateUsers: "auto", cgroups: "auto" });
const runtimeEntry = resolve(fileURLToPath(import.meta.url), "../../../runtime/node/bootstrap.cjs");
let n = 0;

/** Builds a snapshot of a function made of `files`, its handler `index.handler`. */
function build(files: Record<string, string>, timeoutMs = 10_000) {
  const dir = join(root, `f${n++}`);
  const code = join(dir, "code");
  const tmp = join(dir, "tmp");
  mkdirSync(dir, { mode: 0o711 });
  mkdirSync(code, { mode: 0o755 });
  mkdirSync(tmp, { mode: 0o700 });
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(code, name), content, { mode: 0o644 });
  return buildSnapshot({
    driver,
    nodeBinary: process.execPath,
    nodeFlags: [],
    runtimeEntry,
    codeDir: code,
    handler: "index.handler",
    env: { PATH: "/usr/bin:/bin", TMPDIR: tmp, HOME: tmp },
    workDir: join(dir, "snapshot"),
    tmpDir: tmp,
    memoryMb: 512,
    timeoutMs,
  });
}

test("a function whose init spends 250 ms restores from its snapshot faster than it initialises", async () => {
  const result = await build({
    "index.mjs": `import { createHash } from "node:crypto";
const until = Date.now() + 250;
let table = [];
while (Date.now() < until) table.push(createHash("sha256").update(String(table.length)).digest("hex"));
export const handler = async () => table.length;`,
  });
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.ok(result.initMs >= 250, `the plain init ran: ${result.initMs} ms`);
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
