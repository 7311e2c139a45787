/**
 * The registry as a core caller (a console, a template deploy) uses it: typed specs and plain
 * names in, NimbusErrors with structured problems and readable messages out.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import yazl from "yazl";
import { type Alias, type FunctionRecord, type FunctionVersion, LATEST } from "../../protocol/function.js";
import { FakeClock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { CodeStore } from "../code-store.js";
import { Registry } from "./registry.js";
import type { FunctionsRepo } from "./repo.js";
import type { FunctionSpec } from "./spec.js";

/** Functions, versions and aliases in maps: enough of a store for the registry's rules. */
function memoryRepo(): FunctionsRepo {
  const records = new Map<string, FunctionRecord>();
  const versions = new Map<string, FunctionVersion[]>();
  const aliases = new Map<string, Alias>();
  const key = (fn: string, name: string) => `${fn}\u0000${name}`;
  return {
    getFunction: async (name) => records.get(name),
    listFunctions: async (after, limit) =>
      [...records.values()]
        .filter((r) => after === undefined || r.name > after)
        .sort((a, b) => a.name.localeCompare(b.name))
        .slice(0, limit),
    createFunction: async (latest, createdAt, tags) => {
      if (records.has(latest.functionName)) return false;
      records.set(latest.functionName, {
        name: latest.functionName,
        reservedConcurrency: undefined,
        createdAt,
        lastVersion: 0,
        ...(tags && Object.keys(tags).length > 0 ? { tags } : {}),
      });
      versions.set(latest.functionName, [latest]);
      return true;
    },
    replaceLatest: async (next, expected) => {
      const list = versions.get(next.functionName)!;
      if (list[0]!.revisionId !== expected) return false;
      list[0] = next;
      return true;
    },
    publishVersion: async (name, make) => {
      const record = records.get(name)!;
      const published = make(record.lastVersion + 1);
      records.set(name, { ...record, lastVersion: record.lastVersion + 1 });
      versions.get(name)!.push(published);
      return published;
    },
    getVersion: async (name, version) => versions.get(name)?.find((v) => v.version === version),
    listVersions: async (name) => [...(versions.get(name) ?? [])],
    deleteVersion: async (name, version) => {
      versions.set(
        name,
        versions.get(name)!.filter((v) => v.version !== version),
      );
    },
    deleteFunction: async (name) => versions.delete(name) && records.delete(name),
    setReservedConcurrency: async (name, value) => {
      records.set(name, { ...records.get(name)!, reservedConcurrency: value });
    },
    setSandbox: async (name, sandbox) => {
      records.set(name, { ...records.get(name)!, sandbox });
    },
    updateTags: async (name, change) => {
      const record = records.get(name);
      if (!record) return undefined;
      const tags = change(record.tags ?? {});
      records.set(name, { ...record, tags });
      return tags;
    },
    getAlias: async (fn, name) => aliases.get(key(fn, name)),
    listAliases: async (fn) => [...aliases.values()].filter((a) => a.functionName === fn),
    putAlias: async (alias, expected) => {
      const current = aliases.get(key(alias.functionName, alias.name));
      if (expected === null ? current : current?.revisionId !== expected) return false;
      aliases.set(key(alias.functionName, alias.name), alias);
      return true;
    },
    deleteAlias: async (fn, name) => void aliases.delete(key(fn, name)),
    referencedPackages: async () => new Set([...versions.values()].flat().map((v) => v.packageId)),
    accountUsage: async () => ({ functionCount: records.size, totalCodeSize: 0 }),
  };
}

function zipOf(files: Record<string, string>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const [name, data] of Object.entries(files)) zip.addBuffer(Buffer.from(data), name);
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}

const QUEUE = "arn:aws:sqs:us-east-1:000000000000";
/** The queues the platform has, by ARN. */
const QUEUES: Record<string, { fifo: boolean }> = {
  [`${QUEUE}:dead-letters`]: { fifo: false },
  [`${QUEUE}:ordered.fifo`]: { fifo: true },
};

let dir: string;
let registry: Registry;
let code: CodeStore;
let zip: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "nimbus-registry-"));
  code = new CodeStore(dir);
  await code.open();
  registry = new Registry({
    store: memoryRepo(),
    code,
    placement: { choose: () => undefined, workers: () => [] },
    clock: new FakeClock(),
    events: { retire: () => {}, reservationChanged: () => {} },
    arn: (name, q) => `arn:aws:lambda:us-east-1:000000000000:function:${name}${q ? `:${q}` : ""}`,
    queues: { describe: async (arn) => QUEUES[arn] },
  });
  zip = await zipOf({ "index.mjs": "export const handler = async () => 1;" });
});
after(() => rm(dir, { recursive: true, force: true }));

const spec = (extra: Partial<FunctionSpec> = {}): FunctionSpec => ({
  functionName: "thumbs",
  runtime: "nodejs20.x",
  handler: "index.handler",
  code: { kind: "zip", zip },
  ...extra,
});

/** The InvalidParameter error `call` rejects with. */
async function refusal(call: Promise<unknown>): Promise<NimbusError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof NimbusError, String(err));
    assert.equal(err.code, "InvalidParameter", err.message);
    return err;
  }
  assert.fail("expected the call to be refused");
}

test("a spec with several problems is refused with all of them, by the spec's field names, and nothing is stored", async () => {
  const err = await refusal(
    registry.create(
      spec({
        functionName: "bad name",
        runtime: "python3.12",
        memoryMb: 64,
        timeoutS: 901,
        environment: { "1X": "a", AWS_REGION: "eu-west-1" },
      }),
    ),
  );
  assert.deepEqual(
    err.problems.map((p) => [p.field, p.value, p.rule]),
    [
      ["functionName", "bad name", "pattern"],
      ["runtime", "python3.12", "oneOf"],
      ["memoryMb", 64, "range"],
      ["timeoutS", 901, "range"],
      ["environment", "1X", "key"],
      ["environment", ["AWS_REGION"], "reserved"],
    ],
  );
  assert.match(err.message, /^functionName is "bad name": it must be 1 to 64 characters/);
  assert.match(err.message, /; memoryMb is 64: it must be an integer from 128 to 10240 \(MB\);/);
  assert.doesNotMatch(err.message, /validation error|Member must/, "no Lambda wording for core callers");
  await assert.rejects(registry.get("bad name"), { code: "NotFound" });
});

test("a handler is required, except by a provided runtime, which runs bootstrap", async () => {
  const err = await refusal(registry.create(spec({ handler: undefined })));
  assert.deepEqual(err.problems, [
    {
      field: "handler",
      value: undefined,
      rule: "required",
      expected: "be 1 to 128 characters without whitespace, e.g. index.handler",
    },
  ]);
  assert.match(err.message, /^handler is missing: it must be/);
  const custom = await registry.create(
    spec({ functionName: "custom", runtime: "provided.al2023", handler: undefined }),
  );
  assert.equal(custom.handler, "bootstrap");
});

test("a valid spec creates $LATEST with the defaults; a patch changes only what it names", async () => {
  const created = await registry.create(spec({ memoryMb: 256 }));
  assert.equal(created.version, LATEST);
  assert.equal(created.memoryMb, 256);
  assert.equal(created.timeoutS, 3);
  const patched = await registry.updateConfiguration("thumbs", {
    timeoutS: 30,
    snapStart: "PublishedVersions",
  });
  assert.equal(patched.memoryMb, 256);
  assert.equal(patched.timeoutS, 30);
  assert.equal(patched.snapStart, "PublishedVersions");
  const err = await refusal(registry.updateConfiguration("thumbs", { memoryMb: 128.5 }));
  assert.deepEqual(
    err.problems.map((p) => p.field),
    ["memoryMb"],
  );
});

test("a dead-letter target is a function's name, stored as its ARN, and must exist", async () => {
  const err = await refusal(registry.updateConfiguration("thumbs", { deadLetterTarget: "ghost" }));
  assert.deepEqual(
    err.problems.map((p) => [p.field, p.rule]),
    [["deadLetterTarget", "exists"]],
  );
  assert.match(err.message, /dead-letter target ghost does not exist/);
  const fn = await registry.updateConfiguration("thumbs", { deadLetterTarget: "custom" });
  assert.equal(fn.deadLetterTarget, "arn:aws:lambda:us-east-1:000000000000:function:custom");
  assert.equal(
    (await registry.updateConfiguration("thumbs", { deadLetterTarget: null })).deadLetterTarget,
    undefined,
  );
});

test("a dead-letter target may be a standard queue, stored by its ARN; a missing or FIFO queue is refused", async () => {
  const fn = await registry.updateConfiguration("thumbs", { deadLetterTarget: `${QUEUE}:dead-letters` });
  assert.equal(fn.deadLetterTarget, `${QUEUE}:dead-letters`);
  const missing = await refusal(
    registry.updateConfiguration("thumbs", { deadLetterTarget: `${QUEUE}:ghost` }),
  );
  assert.equal(missing.message, `The dead-letter target ${QUEUE}:ghost does not exist.`);
  assert.deepEqual(
    missing.problems.map((p) => [p.field, p.rule]),
    [["deadLetterTarget", "exists"]],
  );
  const fifo = await refusal(
    registry.updateConfiguration("thumbs", { deadLetterTarget: `${QUEUE}:ordered.fifo` }),
  );
  assert.match(fifo.message, /is a FIFO queue: FIFO queues cannot be dead-letter queues/);
  assert.equal(
    (await registry.get("thumbs")).fn.deadLetterTarget,
    `${QUEUE}:dead-letters`,
    "a refusal changes nothing",
  );
  await registry.updateConfiguration("thumbs", { deadLetterTarget: null });
});

test("new code can name a package the code store holds; an unknown package is refused", async () => {
  const other = await zipOf({ "index.mjs": "export const handler = async () => 2;" });
  const stored = await code.put(other);
  const updated = await registry.updateCode("thumbs", {
    code: { kind: "package", packageId: stored.packageId },
  });
  assert.equal(updated.codeSha256, stored.codeSha256);
  const err = await refusal(
    registry.updateCode("thumbs", { code: { kind: "package", packageId: "0".repeat(64) } }),
  );
  assert.deepEqual(
    err.problems.map((p) => [p.field, p.rule]),
    [["code.packageId", "exists"]],
  );
});

test("alias rules report the field they concern: a weight out of range, routing to the alias's own version", async () => {
  await registry.publish("thumbs", {});
  await registry.updateConfiguration("thumbs", { memoryMb: 512 });
  await registry.publish("thumbs", {});
  const range = await refusal(
    registry.createAlias("thumbs", {
      name: "live",
      functionVersion: "1",
      additionalVersionWeights: { "2": 1.5 },
    }),
  );
  assert.deepEqual(
    range.problems.map((p) => [p.field, p.value, p.rule]),
    [["additionalVersionWeights.2", 1.5, "range"]],
  );
  const own = await refusal(
    registry.createAlias("thumbs", {
      name: "live",
      functionVersion: "2",
      additionalVersionWeights: { "2": 0.5 },
    }),
  );
  assert.deepEqual(
    own.problems.map((p) => [p.field, p.rule]),
    [["additionalVersionWeights.2", "consistent"]],
  );
  assert.match(own.message, /own version 2/);
  const nameErr = await refusal(registry.createAlias("thumbs", { name: "123", functionVersion: "1" }));
  assert.deepEqual(
    nameErr.problems.map((p) => [p.field, p.rule]),
    [["name", "pattern"]],
  );
  const alias = await registry.createAlias("thumbs", {
    name: "live",
    functionVersion: "1",
    additionalVersionWeights: { "2": 0.25 },
  });
  assert.deepEqual(alias.additionalVersionWeights, { "2": 0.25 });
  const moved = await registry.updateAlias("thumbs", "live", { additionalVersionWeights: {} });
  assert.equal(moved.functionVersion, "1", "what the patch leaves out is kept");
  assert.deepEqual(moved.additionalVersionWeights, {});
});

test("reserved concurrency must be a whole number of instances, within what is left unreserved", async () => {
  const negative = await refusal(registry.putConcurrency("thumbs", -1, 1000, 100));
  assert.deepEqual(
    negative.problems.map((p) => [p.field, p.rule]),
    [["reservedConcurrency", "range"]],
  );
  const tooMany = await refusal(registry.putConcurrency("thumbs", 950, 1000, 100));
  assert.deepEqual(
    tooMany.problems.map((p) => [p.field, p.rule]),
    [["reservedConcurrency", "available"]],
  );
  assert.equal(await registry.putConcurrency("thumbs", 10, 1000, 100), 10);
});
