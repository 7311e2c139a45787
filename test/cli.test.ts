/**
 * End to end through the `nimbus` command, as a user types it: `nimbus up` in the foreground,
 * then deploy, invoke and logs from another shell, and SIGTERM while an invocation runs.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliEnv, exited, NIMBUS, nimbus, output, startUp } from "./helpers/cli.js";
import { testStore } from "./helpers/store.js";

const HELLO = resolve("examples/hello");

let dataDir: string;
let up: ReturnType<typeof startUp>;
let url: string;
/** The platform's store (NIMBUS_TEST_STORE), the same across its restart. */
let store: { store: string; drop(): Promise<void> };

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "nimbus-cli-"));
  chmodSync(dataDir, 0o711);
  store = await testStore();
  up = startUp(dataDir, "--store", store.store);
  url = (await up.out.waitFor(/Nimbus is running at (http:\/\/\S+)/))[1]!;
});

after(async () => {
  if (up.child.exitCode === null) {
    up.child.kill("SIGTERM");
    await exited(up.child);
  }
  await rm(dataDir, { recursive: true, force: true });
  await store.drop();
});

describe("nimbus up", () => {
  test("prints where the platform is and the key to sign with", () => {
    assert.match(up.out.text, /export AWS_ENDPOINT_URL_LAMBDA=http:\/\/127\.0\.0\.1:\d+/);
    assert.match(up.out.text, /export AWS_ACCESS_KEY_ID=\S+/);
    assert.match(up.out.text, /export AWS_SECRET_ACCESS_KEY=\S+/);
    assert.ok(existsSync(join(dataDir, "credentials.json")));
  });

  test("refuses an invalid flag value with a message that names it, as a usage error (exit 2)", async () => {
    const res = await nimbus(dataDir, "up", "--port", "70000");
    assert.equal(res.code, 2);
    assert.match(res.stderr, /port must be an integer from 0 to 65535, got "70000"/);
  });
});

describe("deploy, invoke, logs", () => {
  test("a directory deploys as a function and invoking it prints the result and the REPORT line", async () => {
    const deployed = await nimbus(dataDir, "deploy", HELLO, "--name", "hello");
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /^created hello: 1 file\(s\), \d+ bytes, CodeSha256 \S+/);

    const invoked = await nimbus(dataDir, "invoke", "hello", "--payload", '{"name":"Ada"}');
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.equal(JSON.parse(invoked.stdout).message, "Hello, Ada!");
    assert.match(
      invoked.stderr,
      /^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms.*Init Duration/m,
    );
    assert.match(
      invoked.stderr,
      /^Cold start: placement [\d.]+ ms, code [\d.]+ ms \(cached\), sandbox [\d.]+ ms( \(from the warm pool\))?, runtime [\d.]+ ms, function init [\d.]+ ms$/m,
    );
  });

  test("deploying again updates the code, and --payload @file reads the event from a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-fn-"));
    writeFileSync(
      join(dir, "index.mjs"),
      `export const handler = async (e) => ({ shout: e.name.toUpperCase() });`,
    );
    const event = join(dir, "event.json");
    writeFileSync(event, '{"name":"grace"}');
    await nimbus(dataDir, "deploy", HELLO, "--name", "shouter");
    const res = await nimbus(dataDir, "deploy", dir, "--name", "shouter");
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^updated shouter/);
    const invoked = await nimbus(dataDir, "invoke", "shouter", "--payload", `@${event}`);
    assert.deepEqual(JSON.parse(invoked.stdout), { shout: "GRACE" });
    await rm(dir, { recursive: true, force: true });
  });

  test("a TypeScript directory is bundled on deploy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-ts-"));
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "math.ts"), `export const double = (n: number): number => n * 2;`);
    writeFileSync(
      join(dir, "index.ts"),
      `import { double } from "./lib/math";\ninterface Event { n: number }\nexport const handler = async (e: Event) => ({ doubled: double(e.n) });\n`,
    );
    const res = await nimbus(dataDir, "deploy", dir, "--name", "typed");
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /bundled with esbuild/);
    const invoked = await nimbus(dataDir, "invoke", "typed", "--payload", '{"n":21}');
    assert.deepEqual(JSON.parse(invoked.stdout), { doubled: 42 });
    await rm(dir, { recursive: true, force: true });
  });

  test("a failing function exits 1 and shows the error and the log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-fail-"));
    writeFileSync(
      join(dir, "index.mjs"),
      `export const handler = async () => { throw new RangeError("too far"); };`,
    );
    await nimbus(dataDir, "deploy", dir, "--name", "failing");
    const invoked = await nimbus(dataDir, "invoke", "failing");
    assert.equal(invoked.code, 1);
    assert.equal(JSON.parse(invoked.stdout).errorType, "RangeError");
    assert.match(invoked.stderr, /ERROR\tInvoke Error/);
    await rm(dir, { recursive: true, force: true });
  });

  test("invoking a function that does not exist says so", async () => {
    const res = await nimbus(dataDir, "invoke", "nope");
    assert.equal(res.code, 1);
    assert.match(res.stderr, /Function not found: arn:aws:lambda:us-east-1:\d{12}:function:nope/);
  });

  test("logs shows past lines, and --follow streams new invocations as they happen", async () => {
    const past = await nimbus(dataDir, "logs", "hello");
    assert.equal(past.code, 0, past.stderr);
    // START, the function's output, END and REPORT, in that order.
    assert.match(
      past.stdout,
      /^START RequestId: (\S+) Version: \$LATEST\n.*\t\1\tINFO\tgreeting Ada\nEND RequestId: \1\nREPORT RequestId: \1\t/m,
    );

    const follower = spawn(process.execPath, [NIMBUS, "logs", "hello", "--follow"], {
      env: cliEnv(dataDir),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const followed = output(follower);
    try {
      await followed.waitFor(/greeting Ada/);
      const invoked = await nimbus(dataDir, "invoke", "hello", "--payload", '{"name":"Lin"}');
      const requestId = JSON.parse(invoked.stdout).requestId as string;
      await followed.waitFor(new RegExp(`REPORT RequestId: ${requestId}`));
      assert.match(followed.text, new RegExp(`START RequestId: ${requestId}`));
    } finally {
      follower.kill();
      await exited(follower);
    }
  });
});

describe("invoke --stream", () => {
  /** Deploys a streaming function from `code` (index.mjs) under `name`. */
  async function deployStreaming(name: string, code: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-stream-"));
    writeFileSync(join(dir, "index.mjs"), code);
    const res = await nimbus(dataDir, "deploy", dir, "--name", name);
    assert.equal(res.code, 0, res.stderr);
    await rm(dir, { recursive: true, force: true });
  }

  test("prints each chunk as it arrives, the first while the function still runs, then the REPORT line", async () => {
    await deployStreaming(
      "streamer",
      `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("first;");
  await sleep(1000);
  s.write("second;");
  await sleep(200);
  s.end("last@" + Date.now());
});`,
    );
    const child = spawn(process.execPath, [NIMBUS, "invoke", "streamer", "--stream"], {
      env: cliEnv(dataDir),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const arrivals: { at: number; text: string }[] = [];
    child.stdout.on("data", (c: Buffer) => arrivals.push({ at: Date.now(), text: c.toString() }));
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await exited(child);
    assert.equal(code, 0, stderr);
    const stdout = arrivals.map((a) => a.text).join("");
    assert.match(stdout, /^first;second;last@\d+$/);
    const endedAt = Number(/last@(\d+)/.exec(stdout)?.[1]);
    assert.equal(arrivals[0]!.text.startsWith("first;"), true);
    assert.ok(
      arrivals[0]!.at < endedAt - 500,
      `the first chunk was printed at ${arrivals[0]!.at}, the function ended at ${endedAt}`,
    );
    assert.match(stderr, /^REPORT RequestId: \S+\tDuration: [\d.]+ ms/m);
    // A cold start: the streamed answer carries its phases, as Invoke's does.
    assert.match(stderr, /^Cold start: placement [\d.]+ ms, code [\d.]+ ms/m);
  });

  test("a function that fails mid-stream: the bytes before on stdout, the error and the log on stderr, exit 1", async () => {
    await deployStreaming(
      "stream-fails",
      `export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("partial;");
  await new Promise((r) => setTimeout(r, 50));
  if (event.fail) throw new TypeError("broke mid-stream");
  s.end("whole");
});`,
    );
    const failed = await nimbus(dataDir, "invoke", "stream-fails", "--stream", "--payload", '{"fail":true}');
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, "partial;");
    assert.match(failed.stderr, /^TypeError: broke mid-stream$/m);
    assert.match(failed.stderr, /ERROR\tInvoke Error/);
    assert.match(failed.stderr, /^REPORT RequestId: /m);

    const json = await nimbus(
      dataDir,
      "invoke",
      "stream-fails",
      "--stream",
      "--json",
      "--payload",
      '{"fail":true}',
    );
    assert.equal(json.code, 1);
    const out = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out).sort(), [
      "ErrorCode",
      "ErrorDetails",
      "ExecutedVersion",
      "InitPhases",
      "LogTail",
      "Payload",
      "RequestId",
    ]);
    assert.equal(out.Payload, "partial;");
    assert.equal(out.ErrorCode, "TypeError");
    assert.equal(out.ErrorDetails, "broke mid-stream");
    assert.equal(out.ExecutedVersion, "$LATEST");
    assert.match(String(out.RequestId), /^[0-9a-f-]{36}$/);
    assert.match(String(out.LogTail), /REPORT RequestId: /);
    assert.equal(out.InitPhases, null, "the second call was warm");

    const ok = await nimbus(dataDir, "invoke", "stream-fails", "--stream", "--json");
    assert.equal(ok.code, 0, ok.stderr);
    const whole = JSON.parse(ok.stdout) as Record<string, unknown>;
    assert.equal(whole.Payload, "partial;whole");
    assert.equal(whole.ErrorCode, null);
    assert.equal(whole.ErrorDetails, null);
  });

  test("--stream with --async is a usage error", async () => {
    const res = await nimbus(dataDir, "invoke", "stream-fails", "--stream", "--async");
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--stream and --async cannot go together/);
  });
});

describe("async invocations", () => {
  test("invoke --async prints the request id; invocations show, ls and redrive follow it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-async-"));
    const code = (fixed: boolean) =>
      `export const handler = async (e) => { if (${!fixed}) throw new Error("not yet"); return "fixed " + e.n; };`;
    writeFileSync(join(dir, "index.mjs"), code(false));
    assert.equal((await nimbus(dataDir, "deploy", dir, "--name", "flaky")).code, 0);
    // No retries: the first failure is final.
    const config = await nimbus(dataDir, "invocations", "ls", "--function", "flaky");
    assert.equal(config.code, 0);
    assert.equal(config.stdout, "", "no invocations yet");
    const { NimbusClient, resolveClientOptions } = await import("../src/cli/client.js");
    const client = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));
    await client.call("PUT", "/2019-09-25/functions/flaky/event-invoke-config", {
      body: JSON.stringify({ MaximumRetryAttempts: 0 }),
    });

    const queued = await nimbus(dataDir, "invoke", "flaky", "--async", "--payload", '{"n":7}');
    assert.equal(queued.code, 0, queued.stderr);
    const id = queued.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);

    const waitFor = async (status: string) => {
      for (let i = 0; i < 200; i++) {
        const shown = await nimbus(dataDir, "invocations", "show", id);
        if (shown.stdout.includes(`  ${status}  `)) return shown.stdout;
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.fail(`invocation never became ${status}`);
    };
    const failed = await waitFor("failed");
    assert.match(failed, /attempts 1/);
    assert.match(failed, /error {2}\{"errorType":"Error","errorMessage":"not yet"/);

    const listed = await nimbus(dataDir, "invocations", "ls", "--function", "flaky", "--status", "failed");
    assert.match(listed.stdout, new RegExp(`^${id}  flaky  failed`, "m"));

    writeFileSync(join(dir, "index.mjs"), code(true));
    await nimbus(dataDir, "deploy", dir, "--name", "flaky");
    const redriven = await nimbus(dataDir, "invocations", "redrive", id);
    assert.equal(redriven.code, 0, redriven.stderr);
    const succeeded = await waitFor("succeeded");
    assert.match(succeeded, /result "fixed 7"/);

    const again = await nimbus(dataDir, "invocations", "redrive", id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is succeeded: only a failed invocation can be redriven/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("shutdown", () => {
  test("SIGTERM lets a running invocation finish, then stops; the next start serves the same functions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-slow-"));
    writeFileSync(
      join(dir, "index.mjs"),
      `export const handler = async () => { await new Promise((r) => setTimeout(r, 700)); return "finished"; };`,
    );
    await nimbus(dataDir, "deploy", dir, "--name", "slow");
    const running = nimbus(dataDir, "invoke", "slow");
    // Wait until the invocation has started (its START line is in the logs), then stop.
    for (let i = 0; i < 100; i++) {
      if (/START RequestId/.test((await nimbus(dataDir, "logs", "slow")).stdout)) break;
    }
    up.child.kill("SIGTERM");
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '"finished"');
    assert.equal(await exited(up.child), 0);
    assert.match(up.out.text, /Nimbus is stopping/);
    assert.match(up.out.text, /Nimbus stopped/);
    assert.equal(existsSync(join(dataDir, "endpoint")), false);

    // Without its endpoint file the CLI would try the default address, where another platform
    // may run on a shared machine: the address the stopped one had is asked for instead.
    const refused = await nimbus(dataDir, "invoke", "slow", "--endpoint", url);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /cannot reach the platform at http:\/\/127\.0\.0\.1:\d+ \(--endpoint\): ECONNREFUSED/,
    );

    up = startUp(dataDir, "--store", store.store);
    await up.out.waitFor(/Nimbus is running at/);
    const again = await nimbus(dataDir, "invoke", "hello", "--payload", '{"name":"Ada"}');
    assert.equal(again.code, 0, again.stderr);
    await rm(dir, { recursive: true, force: true });
  });
});
