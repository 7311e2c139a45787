/**
 * The folders' import direction, as each folder's README states it: a module that reaches
 * across it fails here, with the file and the import named, instead of growing the knot the
 * architecture keeps apart (the control plane and the worker never import each other; the
 * store implements the control plane's repository interfaces and nothing else of it; only the
 * composition root sees everything).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** The compiled tests run from dist/src: the sources are two levels up. */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** What each top folder may import from the others (every import within a folder is allowed). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: [],
  shared: ["protocol"],
  runtime: ["protocol"],
  worker: ["protocol", "shared"],
  control: ["protocol", "shared"],
  services: ["protocol", "shared"],
  store: ["protocol", "shared", "control:repositories", "services:repositories"],
  gateway: ["protocol", "shared", "control", "services"],
  cli: ["protocol", "shared", "platform", "control:types"],
  platform: ["protocol", "shared", "control", "services", "store", "worker", "gateway"],
};

/** The control plane's storage contracts: what a store implements (`<module>/repo.ts` in a module's folder, at any depth). */
const REPOSITORY = /^control\/(.*-repo|(?:[^/]+\/)+repo|async\/queue)\.ts$/;
/** A service's storage contract and the documents it stores (`services/<name>/repo.ts`, `model.ts`). */
const SERVICE_REPOSITORY = /^services\/[^/]+\/(repo|model)\.ts$/;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) sources(path, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

interface Import {
  readonly target: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const found: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)(\s+type)?\s[^;]*?from\s+"(\.[^"]+)"/gms)) {
    const target = relative(SRC, resolve(dirname(file), m[2]!.replace(/\.js$/, ".ts")));
    found.push({ target, typeOnly: m[1] !== undefined });
  }
  return found;
}

function allowed(from: string, imp: Import): boolean {
  const to = imp.target.split("/")[0]!;
  if (to === from || to === ".." || imp.target.startsWith("..")) return true;
  const rules = MAY_IMPORT[from];
  if (!rules) return false;
  return rules.some(
    (r) =>
      r === to ||
      (r === "control:repositories" && REPOSITORY.test(imp.target)) ||
      (r === "services:repositories" && SERVICE_REPOSITORY.test(imp.target) && imp.typeOnly) ||
      (r === "control:types" && to === "control" && imp.typeOnly),
  );
}

test("every top folder has its rule, and its README", () => {
  for (const e of readdirSync(SRC, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    assert.ok(MAY_IMPORT[e.name], `src/${e.name} has no import rule in this test`);
    assert.ok(
      readdirSync(join(SRC, e.name)).includes("README.md"),
      `src/${e.name} has no README.md saying what it owns and what it must not import`,
    );
  }
});

test("no module imports across the folders' direction", () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file).split("/")[0]!;
    for (const imp of importsOf(file))
      if (!allowed(from, imp)) wrong.push(`${relative(SRC, file)} imports ${imp.target}`);
  }
  assert.deepEqual(
    wrong,
    [],
    `imports against the direction (see each folder's README):\n${wrong.join("\n")}`,
  );
});

test("the rule catches what it should: a worker module importing the control plane", () => {
  assert.equal(allowed("worker", { target: "control/dispatcher.ts", typeOnly: true }), false);
  assert.equal(allowed("store", { target: "control/dispatcher.ts", typeOnly: true }), false);
  assert.equal(allowed("store", { target: "control/logs-repo.ts", typeOnly: true }), true);
  assert.equal(allowed("store", { target: "control/urls/repo.ts", typeOnly: true }), true);
  assert.equal(allowed("store", { target: "control/triggers/mappings/repo.ts", typeOnly: true }), true);
  assert.equal(allowed("store", { target: "control/triggers/mappings/poller.ts", typeOnly: true }), false);
  assert.equal(allowed("store", { target: "control/urls/service.ts", typeOnly: true }), false);
  assert.equal(allowed("store", { target: "services/http-apis/repo.ts", typeOnly: true }), true);
  assert.equal(allowed("store", { target: "services/http-apis/model.ts", typeOnly: true }), true);
  assert.equal(allowed("store", { target: "services/http-apis/model.ts", typeOnly: false }), false);
  assert.equal(allowed("store", { target: "services/http-apis/route-keys.ts", typeOnly: true }), false);
  assert.equal(allowed("cli", { target: "control/usage-report.ts", typeOnly: false }), false);
  assert.equal(allowed("gateway", { target: "worker/worker.ts", typeOnly: true }), false);
  assert.equal(allowed("services", { target: "gateway/cors.ts", typeOnly: true }), false);
  assert.equal(allowed("services", { target: "control/dispatcher.ts", typeOnly: true }), false);
  assert.equal(allowed("services", { target: "shared/clock.ts", typeOnly: false }), true);
  assert.equal(allowed("gateway", { target: "services/http-apis/route-keys.ts", typeOnly: false }), true);
});
