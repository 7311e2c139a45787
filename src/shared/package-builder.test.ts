import assert from "node:assert/strict";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { buildPackage } from "./package-builder.js";
import { extractZip } from "./zip.js";

const sandboxes: string[] = [];
after(async () => {
  for (const dir of sandboxes) await rm(dir, { recursive: true, force: true });
});

async function sandbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-build-"));
  sandboxes.push(dir);
  return dir;
}

/** Writes files (path → content) under a new directory and returns it. */
async function functionDir(files: Record<string, string>): Promise<string> {
  const dir = await sandbox();
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

async function unpack(zip: Buffer): Promise<string> {
  const dest = join(await sandbox(), "pkg");
  await extractZip(zip, dest);
  return dest;
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), `${path}/`)));
    else out.push(path);
  }
  return out.sort();
}

test("zips a JavaScript directory as it is, keeping modes and inner symlinks, leaving out .git and caches", async () => {
  const dir = await functionDir({
    "index.js": "exports.handler = async () => 'ok';\n",
    bootstrap: "#!/bin/sh\nexec node index.js\n",
    "lib/util.js": "module.exports = 1;\n",
    "lib/deep/data.json": '{"a":1}',
    "node_modules/tool/cli.js": "#!/usr/bin/env node\n",
    "node_modules/.cache/big.bin": "cache",
    ".git/config": "[core]",
  });
  await chmod(join(dir, "bootstrap"), 0o755);
  await mkdir(join(dir, "node_modules/.bin"));
  await symlink("../tool/cli.js", join(dir, "node_modules/.bin/tool"));

  const built = await buildPackage(dir, {});
  assert.deepEqual(
    { ...built, zip: undefined },
    { zip: undefined, handler: "index.handler", bundled: false, files: 6 },
  );
  const out = await unpack(built.zip);
  assert.deepEqual(await listFiles(out), [
    "bootstrap",
    "index.js",
    "lib/deep/data.json",
    "lib/util.js",
    "node_modules/.bin/tool",
    "node_modules/tool/cli.js",
  ]);
  assert.equal((await stat(join(out, "bootstrap"))).mode & 0o777, 0o755);
  assert.equal((await stat(join(out, "lib/util.js"))).mode & 0o777, 0o644);
  assert.equal(await readFile(join(out, "lib/deep/data.json"), "utf8"), '{"a":1}');
  assert.ok((await lstat(join(out, "node_modules/.bin/tool"))).isSymbolicLink());
  assert.equal(await readlink(join(out, "node_modules/.bin/tool")), "../tool/cli.js");
});

test("copies the content of a symlink that leaves the directory", async () => {
  const shared = await functionDir({
    "package.json": '{"name":"shared"}',
    "index.js": "module.exports = 7;\n",
  });
  const dir = await functionDir({ "index.js": "exports.handler = () => require('shared');\n" });
  await mkdir(join(dir, "node_modules"));
  await symlink(shared, join(dir, "node_modules/shared"));
  const out = await unpack((await buildPackage(dir, {})).zip);
  assert.equal(await readFile(join(out, "node_modules/shared/index.js"), "utf8"), "module.exports = 7;\n");
  assert.ok((await lstat(join(out, "node_modules/shared"))).isDirectory());
});

test("gives byte-identical zips for the same directory, whatever its timestamps", async () => {
  const dir = await functionDir({
    "index.mjs": "export const handler = () => 1;\n",
    "a/b.txt": "b",
    "a/c.txt": "c",
  });
  const first = await buildPackage(dir, {});
  await utimes(join(dir, "a/b.txt"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const second = await buildPackage(dir, {});
  assert.ok(first.zip.equals(second.zip));
  await writeFile(join(dir, "a/c.txt"), "changed");
  assert.ok(!first.zip.equals((await buildPackage(dir, {})).zip), "a change in content changes the zip");
});

test("prefers a JavaScript handler file to a TypeScript one, as the runtime would load it", async () => {
  const dir = await functionDir({
    "src/app.mjs": "export const run = () => 'js';\n",
    "src/app.ts": "this would not compile (",
  });
  const built = await buildPackage(dir, { handler: "src/app.run" });
  assert.deepEqual(
    { ...built, zip: undefined },
    { zip: undefined, handler: "src/app.run", bundled: false, files: 2 },
  );
});

test("bundles a TypeScript handler with its local imports and CommonJS dependencies into one file", async () => {
  const dir = await functionDir({
    "index.ts": [
      'import greeting from "greeter";',
      'import { shout } from "./util.ts";',
      "interface Event { name: string }",
      "export const handler = async (event: Event): Promise<string> => shout(greeting(event.name));",
    ].join("\n"),
    "util.ts": 'export const shout = (s: string): string => s.toUpperCase() + "!";\n',
    "node_modules/greeter/package.json": '{ "name": "greeter", "main": "index.js" }',
    // CommonJS that requires a Node built-in: works in the ESM bundle only through the banner.
    "node_modules/greeter/index.js":
      'const { sep } = require("node:path");\nmodule.exports = (n) => "hello" + sep + n;\n',
  });
  const built = await buildPackage(dir, {});
  assert.equal(built.handler, "index.handler");
  assert.equal(built.bundled, true);
  assert.equal(built.files, 1);
  const out = await unpack(built.zip);
  assert.deepEqual(await listFiles(out), ["index.mjs"]);
  const mod = (await import(pathToFileURL(join(out, "index.mjs")).href)) as {
    handler: (e: { name: string }) => Promise<string>;
  };
  assert.equal(await mod.handler({ name: "Ada" }), "HELLO/ADA!");
});

test("says where it looked when the handler's file is missing", async () => {
  const dir = await functionDir({ "README.md": "no code here" });
  await assert.rejects(buildPackage(dir, {}), {
    code: "InvalidParameter",
    message: `cannot find the handler's file: looked for index.js, index.mjs, index.cjs, index.ts, index.mts, index.cts in ${dir}`,
  });
  await assert.rejects(buildPackage(dir, { handler: "../up.handler" }), {
    code: "InvalidParameter",
    message: /^handler "..\/up.handler" is not valid: expected file.export/,
  });
});

test("reports a TypeScript syntax error with its file and line", async () => {
  const dir = await functionDir({
    "index.ts": "export const handler = () => {\n  const x: number = ;\n};\n",
  });
  await assert.rejects(buildPackage(dir, {}), {
    code: "InvalidParameter",
    message: 'cannot bundle index.ts: index.ts:2: Unexpected ";"',
  });
});
