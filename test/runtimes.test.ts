/**
 * End to end: runtimes Nimbus did not write run on its Runtime API unchanged — a custom
 * `provided` runtime whose `bootstrap` is a shell script speaking HTTP with curl, and the
 * official Node runtime interface client `aws-lambda-ric` packaged inside the function.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  type Runtime,
} from "@aws-sdk/client-lambda";
import { processOwners } from "../src/worker/sandbox/uids.js";
import {
  createNodeRuntimeFunction,
  filesUnder,
  startPlatform,
  type TestPlatform,
  text,
  type ZipFiles,
  zipOf,
} from "./helpers/platform.js";
import { alive, until } from "./helpers/wait.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ initTimeoutMs: 5000 });
});
after(async () => {
  await t.close();
});

async function deploy(name: string, runtime: string, handler: string, files: ZipFiles) {
  const out = await t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: runtime as Runtime,
      Handler: handler,
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: await zipOf(files) },
    }),
  );
  assert.equal(out.State, "Active");
}

async function invoke(name: string, payload: unknown) {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload), LogType: "Tail" }),
  );
  return { ...out, body: text(out.Payload), tail: Buffer.from(out.LogResult ?? "", "base64").toString() };
}

// A complete Lambda custom runtime in POSIX shell: the loop every `provided` runtime runs.
const SHELL_BOOTSTRAP = `#!/bin/sh
set -eu
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
echo "shell runtime up, handler $_HANDLER"
while true; do
  headers="$TMPDIR/headers"
  event=$(curl -sS -D "$headers" "$api/invocation/next")
  id=$(sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\\([^[:space:]]*\\).*/\\1/p' "$headers")
  echo "got $event"
  case "$event" in
    *fail*) curl -sS -o /dev/null -X POST -H "Lambda-Runtime-Function-Error-Type: Unhandled" \\
              -d '{"errorType":"ShellError","errorMessage":"asked to fail"}' "$api/invocation/$id/error" ;;
    *) curl -sS -o /dev/null -X POST -d "{\\"echo\\":$event,\\"requestId\\":\\"$id\\"}" "$api/invocation/$id/response" ;;
  esac
done
`;

describe("custom runtime (provided)", () => {
  test("a shell bootstrap using curl serves invocations, errors and logs", async () => {
    await deploy("shell", "provided.al2023", "function.handler", {
      bootstrap: { content: SHELL_BOOTSTRAP, mode: 0o755 },
    });
    const ok = await invoke("shell", { n: 1 });
    assert.equal(ok.StatusCode, 200);
    assert.equal(ok.FunctionError, undefined, ok.body + ok.tail);
    const body = JSON.parse(ok.body) as { echo: unknown; requestId: string };
    assert.deepEqual(body.echo, { n: 1 });
    assert.match(body.requestId, /^[0-9a-f-]{36}$/);
    assert.match(ok.tail, /shell runtime up, handler function\.handler/);
    assert.match(ok.tail, /got \{"n":1\}/);
    assert.match(ok.tail, /REPORT RequestId: .*Init Duration/);

    const failed = await invoke("shell", { fail: true });
    assert.equal(failed.FunctionError, "Unhandled");
    assert.deepEqual(JSON.parse(failed.body), { errorType: "ShellError", errorMessage: "asked to fail" });

    // The same warm instance answers again after an error.
    const again = await invoke("shell", { n: 2 });
    assert.deepEqual(JSON.parse(again.body).echo, { n: 2 });
    assert.doesNotMatch(again.tail, /Init Duration/);
  });

  test("a bootstrap that is not executable fails init with Lambda's error", async () => {
    await deploy("not-exec", "provided", "x", { bootstrap: { content: "#!/bin/sh\nexit 0\n", mode: 0o644 } });
    const out = await invoke("not-exec", {});
    assert.equal(out.FunctionError, "Unhandled");
    assert.match(JSON.parse(out.body).errorType, /^Runtime\./);
  });

  test("a package with no bootstrap fails init with Runtime.InvalidEntrypoint", async () => {
    await deploy("no-bootstrap", "provided", "x", { "readme.txt": "nothing to run" });
    const out = await invoke("no-bootstrap", {});
    assert.equal(out.FunctionError, "Unhandled");
    assert.equal(JSON.parse(out.body).errorType, "Runtime.InvalidEntrypoint");
  });

  test("a runtime that drops its connection in the middle of a response's body: Runtime.TruncatedResponse at once, the instance replaced", async () => {
    // Speaks the HTTP Runtime API by hand: a whole (not streamed) response that declares more
    // bytes than it sends, then the connection dropped; the process lives on.
    const runtime = `import { request } from "node:http";
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(":");
for (;;) {
  const next = await fetch("http://" + api + "/2018-06-01/runtime/invocation/next");
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  const body = JSON.stringify({ answered: true });
  await new Promise((resolve) => {
    const req = request({
      host, port, method: "POST",
      path: "/2018-06-01/runtime/invocation/" + id + "/response",
      headers: { "Content-Type": "application/json", "Content-Length": body.length },
    }, (res) => { res.resume(); res.on("end", resolve); });
    req.on("error", resolve);
    if (event.whole) return req.end(body);
    req.write(body.slice(0, 5));
    setTimeout(() => { console.log("dropping the connection"); req.destroy(); resolve(); }, 100);
  });
}
`;
    await createNodeRuntimeFunction(t.lambda, "drops-whole", runtime, { Timeout: 30 });
    const whole = await invoke("drops-whole", { whole: true });
    assert.equal(whole.FunctionError, undefined, whole.tail);
    assert.deepEqual(JSON.parse(whole.body), { answered: true });

    const started = Date.now();
    const cut = await invoke("drops-whole", {});
    assert.ok(Date.now() - started < 5000, "the invocation ended at the cut, not at the 30 s timeout");
    assert.equal(cut.FunctionError, "Unhandled");
    const error = JSON.parse(cut.body) as { errorType: string; errorMessage: string };
    assert.equal(error.errorType, "Runtime.TruncatedResponse");
    assert.match(error.errorMessage, /closed its connection before the end of its response/);
    assert.match(cut.tail, /dropping the connection/);
    assert.match(cut.tail, /REPORT RequestId: .*\tStatus: error\tError Type: Runtime\.TruncatedResponse/);

    const after = await invoke("drops-whole", { whole: true });
    assert.deepEqual(JSON.parse(after.body), { answered: true });
    assert.match(after.tail, /Init Duration/, "a new instance served it");
  });
});

describe("instance lifetime", () => {
  test("processes a runtime starts, even ones that leave its process group, stop with the instance", async () => {
    await deploy("spawner", "provided", "x", {
      bootstrap: {
        content: `#!/bin/sh
sleep 1000 &
inside=$!
setsid sleep 1001 &
escaped=$!
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  id=$(curl -sS -D - -o /dev/null "$api/invocation/next" | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\\([^[:space:]]*\\).*/\\1/p')
  curl -sS -o /dev/null -X POST -d "[$inside,$escaped,$(id -u)]" "$api/invocation/$id/response"
done
`,
        mode: 0o755,
      },
    });
    const out = await invoke("spawner", {});
    const [inside, escaped, uid] = JSON.parse(out.body) as [number, number, number];
    if (process.getuid?.() === 0) {
      // Every process of the instance runs as its own uid, whatever pids its namespace shows.
      const sleeping = () => processOwners().filter(([pid, owner]) => owner === uid && isSleep(pid)).length;
      assert.equal(sleeping(), 2, "both children run while the instance does");
      await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "spawner" }));
      await until(() => sleeping() === 0);
    } else {
      assert.ok(alive(inside) && alive(escaped), "both children run while the instance does");
      await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "spawner" }));
      await until(() => !alive(inside));
      process.kill(escaped, "SIGKILL");
    }
  });
});

describe("aws-lambda-ric", () => {
  test("the official Node runtime interface client, packaged in the function, runs a handler", async () => {
    const require = createRequire(import.meta.url);
    const ricDir = dirname(require.resolve("aws-lambda-ric/package.json"));
    await deploy("ric", "provided.al2023", "app.handler", {
      ...filesUnder(ricDir, "node_modules/aws-lambda-ric"),
      bootstrap: {
        content: `#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/node_modules/aws-lambda-ric/index.mjs"\n`,
        mode: 0o755,
      },
      "app.mjs": `export const handler = async (event, context) => {
        console.log("ric handling", event.name);
        return { greeting: "hello " + event.name, fn: context.functionName, left: context.getRemainingTimeInMillis() > 0 };
      };`,
    });
    const out = await invoke("ric", { name: "Ada" });
    assert.equal(out.FunctionError, undefined, out.body);
    assert.deepEqual(JSON.parse(out.body), { greeting: "hello Ada", fn: "ric", left: true });
    assert.match(out.tail, /ric handling Ada/);

    const thrown = await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: "ric-throws",
        Runtime: "provided.al2023",
        Handler: "app.handler",
        Role: "arn:aws:iam::000000000000:role/test",
        Code: {
          ZipFile: await zipOf({
            ...filesUnder(ricDir, "node_modules/aws-lambda-ric"),
            bootstrap: {
              content: `#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/node_modules/aws-lambda-ric/index.mjs"\n`,
              mode: 0o755,
            },
            "app.mjs": `export const handler = async () => { throw new TypeError("bad input"); };`,
          }),
        },
      }),
    );
    assert.equal(thrown.State, "Active");
    const err = await invoke("ric-throws", {});
    assert.equal(err.FunctionError, "Unhandled");
    const payload = JSON.parse(err.body) as { errorType: string; errorMessage: string };
    assert.equal(payload.errorType, "TypeError");
    assert.equal(payload.errorMessage, "bad input");
  });
});

function isSleep(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep";
  } catch {
    return false;
  }
}
