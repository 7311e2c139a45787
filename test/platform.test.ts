/**
 * End to end: the Runtime API's request-id rules as a runtime sees them, code pre-downloaded
 * to the worker at deploy, the logs API, placement by free memory, and turning auth off.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateFunctionCommand,
  InvokeCommand,
  PublishVersionCommand,
  type Runtime,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { startPlatform, type TestPlatform, text, type ZipFiles, zipOf } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

let t: TestPlatform;
let client: NimbusClient;
before(async () => {
  t = await startPlatform();
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  await t.close();
});

async function deploy(name: string, files: ZipFiles, runtime = "nodejs20.x", memory = 128) {
  await t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: runtime as Runtime,
      Handler: runtime.startsWith("provided") ? "x" : "index.handler",
      Role: "arn:aws:iam::000000000000:role/test",
      MemorySize: memory,
      Code: { ZipFile: await zipOf(files) },
    }),
  );
}

async function invoke(name: string, payload: unknown = {}) {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload) }),
  );
  return { ...out, body: text(out.Payload) };
}

describe("Runtime API request ids", () => {
  test("a runtime can answer only the invocation it holds, once", async () => {
    // Each call reports the status codes the Runtime API gave to requests it must refuse.
    const bootstrap = `#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
post() { curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$api/$1"; }
before_next=$(post invocation/made-up/response)
old=""
while true; do
  id=$(curl -sS -D - -o /dev/null "$api/invocation/next" | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\\([^[:space:]]*\\).*/\\1/p')
  wrong=$(post invocation/not-$id/response)
  stale=$([ -n "$old" ] && post invocation/$old/response || echo none)
  init_error=$(post init/error)
  curl -sS -o /dev/null -X POST -d "{\\"beforeNext\\":\\"$before_next\\",\\"wrongId\\":\\"$wrong\\",\\"previousId\\":\\"$stale\\",\\"initErrorAfterInit\\":\\"$init_error\\"}" "$api/invocation/$id/response"
  second=$(post invocation/$id/response)
  echo "second answer: $second"
  old=$id
done
`;
    // A CPU of its own: six curl runs per invocation at 128 MB's share (7 %) come near the timeout.
    await deploy("strict", { bootstrap: { content: bootstrap, mode: 0o755 } }, "provided", 1769);
    const first = JSON.parse((await invoke("strict")).body);
    assert.deepEqual(first, {
      beforeNext: "403",
      wrongId: "400",
      previousId: "none",
      initErrorAfterInit: "403",
    });
    const second = JSON.parse((await invoke("strict")).body);
    assert.equal(second.previousId, "400", "the previous invocation's id is refused after the next /next");
    assert.equal(second.wrongId, "400");
  });
});

describe("code pre-download", () => {
  test("deploying extracts the code into the worker's cache, so a cold start reads nothing from the package store", async () => {
    const cacheDir = join(t.platform.worker.root, "code");
    const before = new Set(readdirSync(cacheDir));
    await deploy("prefetched", { "index.mjs": `export const handler = async () => "from the cache";` });
    const added = readdirSync(cacheDir).filter((d) => !before.has(d));
    assert.equal(added.length, 1, "one extracted package appears at deploy, before any invocation");

    // Take the package store away: the first invocation must not need it.
    const packages = join(t.dataDir, "packages");
    renameSync(packages, `${packages}.away`);
    try {
      assert.equal(JSON.parse((await invoke("prefetched")).body), "from the cache");
    } finally {
      renameSync(`${packages}.away`, packages);
    }
  });
});

describe("logs API", () => {
  interface Entry {
    time: string;
    requestId: string | null;
    message: string;
  }
  async function logs(query: Record<string, string>): Promise<Entry[]> {
    const res = await client.call("GET", "/nimbus/v1/logs", { query });
    return ((await res.json()) as { entries: Entry[] }).entries;
  }

  test("logs are queryable by function, request id and time range", async () => {
    await deploy("diary", {
      "index.mjs": `export const handler = async (e, ctx) => { console.log("entry", e.n); return ctx.awsRequestId; };`,
    });
    const first = JSON.parse((await invoke("diary", { n: 1 })).body) as string;
    // Timestamps are whole milliseconds: keep clear of the first invocation's last one.
    await new Promise((r) => setTimeout(r, 5));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const second = JSON.parse((await invoke("diary", { n: 2 })).body) as string;

    const all = await logs({ function: "diary" });
    assert.ok(
      all.some((e) => e.message.endsWith("entry 1")) && all.some((e) => e.message.endsWith("entry 2")),
    );

    const one = await logs({ function: "diary", requestId: second });
    assert.equal(one.length, 4);
    assert.equal(one[0]!.message, `START RequestId: ${second} Version: $LATEST`);
    assert.match(one[1]!.message, new RegExp(`\t${second}\tINFO\tentry 2$`));
    assert.equal(one[2]!.message, `END RequestId: ${second}`);
    assert.match(one[3]!.message, new RegExp(`^REPORT RequestId: ${second}\tDuration: `));
    assert.ok(one.every((e) => e.requestId === second));

    const later = await logs({ function: "diary", from: String(between) });
    assert.ok(later.length > 0);
    assert.ok(
      later.every((e) => e.requestId !== first),
      "nothing of the first invocation after `from`",
    );
    const earlier = await logs({ function: "diary", to: String(between) });
    assert.ok(
      earlier.every((e) => e.requestId !== second),
      "nothing of the second invocation before `to`",
    );
  });

  test("logs are queryable by version and by text", async () => {
    await deploy("versioned", {
      "index.mjs": `export const handler = async (e) => { console.log("said", e.word); return 1; };`,
    });
    await t.lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    await invoke("versioned", { word: "needle" });
    await t.lambda.send(
      new InvokeCommand({
        FunctionName: "versioned",
        Qualifier: "1",
        Payload: JSON.stringify({ word: "hay" }),
      }),
    );
    const v1 = await logs({ function: "versioned", version: "1" });
    assert.equal(v1.length, 4, "START, the line, END and REPORT");
    assert.ok(v1.some((e) => e.message.endsWith("said hay")));
    assert.ok(!v1.some((e) => e.message.includes("needle")));
    const found = await logs({ function: "versioned", q: "needle" });
    assert.equal(found.length, 1);
    assert.match(found[0]!.message, /\tINFO\tsaid needle$/);
    assert.deepEqual(
      await logs({ function: "versioned", q: "Needle" }),
      [],
      "the text match is case-sensitive",
    );
  });

  test("a bad query is refused with a message that says what is expected", async () => {
    const res = await client.request("GET", "/nimbus/v1/logs", {
      query: { function: "diary", from: "yesterday" },
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.match(body.error.message, /from/);
  });
});

describe("placement", () => {
  test("idle instances give their memory to new ones; with only busy ones left, a call is throttled", async () => {
    // This worker hands out 1024 MB.
    const small = await startPlatform({ workerMemoryMb: 1024 });
    const lambda = small.lambda;
    const sleeper = {
      "index.mjs": `export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 0)); return process.env.AWS_LAMBDA_LOG_STREAM_NAME.split("]")[1]; };`,
    };
    const call = async (name: string, ms = 0) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ ms }), LogType: "Tail" }),
      );
      const tail = Buffer.from(out.LogResult ?? "", "base64").toString();
      return { pid: JSON.parse(text(out.Payload)) as string, cold: tail.includes("Init Duration") };
    };
    try {
      for (const [name, memory] of [
        ["half", 512],
        ["big", 768],
      ] as const) {
        await lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: "nodejs20.x",
            Handler: "index.handler",
            Role: "arn:aws:iam::000000000000:role/test",
            MemorySize: memory,
            Code: { ZipFile: await zipOf(sleeper) },
          }),
        );
      }
      const half = await call("half");
      // 512 MB are idle; "big" needs 768: the idle instance is stopped to make room.
      const running = call("big", 800);
      // Its instance is up (and busy for 800 ms) once the dispatcher counts it.
      await until(() => small.platform.dispatcher.instanceCounts("big").total === 1, 10_000);
      // 256 MB left and nothing idle to give: a second "big" instance is throttled at once.
      await assert.rejects(
        call("big"),
        (err: Error & { Reason?: string; $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(err.name, "TooManyRequestsException");
          assert.equal(err.$metadata?.httpStatusCode, 429);
          assert.equal(err.Reason, "ConcurrentInvocationLimitExceeded");
          assert.match(err.message, /No worker has 768 MB of memory free/);
          return true;
        },
      );
      assert.equal((await running).cold, true);
      const again = await call("half");
      assert.equal(again.cold, true, "the evicted instance starts again");
      assert.notEqual(again.pid, half.pid);
    } finally {
      await small.close();
    }
  });
});

describe("sandbox users", () => {
  test("with a data directory other users cannot reach, instances still run as their own uid", async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-private-"));
    chmodSync(dir, 0o700);
    const priv = await startPlatform({ dataDir: join(dir, "data") });
    const lambda = priv.lambda;
    try {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: "whoami",
          Runtime: "nodejs20.x",
          Handler: "index.handler",
          Role: "arn:aws:iam::000000000000:role/test",
          Code: {
            ZipFile: await zipOf({ "index.mjs": `export const handler = async () => process.getuid();` }),
          },
        }),
      );
      const out = await lambda.send(new InvokeCommand({ FunctionName: "whoami" }));
      const uid = Number(text(out.Payload));
      if (process.getuid?.() === 0) assert.ok(uid >= 200_000, `instance ran as uid ${uid}`);
      else {
        ctx.diagnostic("per-instance uids need root");
        assert.equal(uid, process.getuid?.());
      }
    } finally {
      await priv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("auth off", () => {
  test("with verification off, an unsigned request is served", async () => {
    const open = await startPlatform({ auth: "off" });
    try {
      const res = await fetch(`${open.url}/2015-03-31/functions/`);
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { Functions: unknown[] }).Functions, []);
    } finally {
      await open.close();
    }
  });
});
