// A fake Runtime API on 127.0.0.1 port 0 and the bootstrap spawned against it with a clean
// environment, for the runtime's tests (src/runtime/node/bootstrap.test.ts): it queues events
// and records every post it receives.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

// The runtime as tsc builds it (dist/src/runtime/node), beside these helpers' own dist/test/helpers.
const BOOTSTRAP = fileURLToPath(new URL("../../src/runtime/node/bootstrap.js", import.meta.url));
const WAIT_MS = 5_000;

export interface Post {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's bytes as they arrived (a streamed response's chunks), with when each came. */
  chunks: { bytes: Buffer; at: number }[];
  trailers: NodeJS.Dict<string>;
}

export interface Sandbox {
  /** Queues an event (a value, or raw text) and resolves with the runtime's answer for it. */
  invoke(event: unknown, headers?: Record<string, string>): Promise<Post>;
  waitFor(what: string, check: () => boolean): Promise<void>;
  readonly posts: Post[];
  nextRequests(): number;
  stdout(): string;
  exitCode(): Promise<number | null>;
}

/** Starts a fake Runtime API on port 0 and the bootstrap against it, with a clean environment. */
export async function startSandbox(t: TestContext, taskRoot: string, handler: string): Promise<Sandbox> {
  const posts: Post[] = [];
  const queue: Array<{ id: string; body: string; headers: Record<string, string> }> = [];
  const parked: ServerResponse[] = [];
  let nextRequests = 0;
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };

  const serve = () => {
    const res = parked[0];
    const item = queue[0];
    if (res === undefined || item === undefined) return;
    parked.shift();
    queue.shift();
    res.writeHead(200, { ...item.headers, "content-type": "application/json" }).end(item.body);
  };
  const server = createServer((req, res) => {
    const chunks: { bytes: Buffer; at: number }[] = [];
    req.on("data", (bytes: Buffer) => {
      chunks.push({ bytes, at: Date.now() });
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks.map((c) => c.bytes)).toString("utf8");
      if (req.method === "GET" && req.url === "/2018-06-01/runtime/invocation/next") {
        nextRequests += 1;
        parked.push(res);
        serve();
      } else {
        posts.push({ path: req.url ?? "", headers: req.headers, body, chunks, trailers: req.trailers });
        res.writeHead(202, { "content-type": "application/json" }).end('{"status":"OK"}');
      }
      changed();
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;

  const child = spawn(process.execPath, [BOOTSTRAP], {
    cwd: taskRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_LAMBDA_FUNCTION_NAME: "orders",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
      AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/orders",
      AWS_LAMBDA_LOG_STREAM_NAME: "2024/01/01/[$LATEST]0123456789abcdef",
    },
  });
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  exited.then(changed);
  t.after(() => {
    child.kill("SIGKILL");
    server.closeAllConnections();
    server.close();
  });

  const waitFor = (what: string, check: () => boolean) =>
    new Promise<void>((done, fail) => {
      const listener = () => {
        if (!check()) return;
        listeners.delete(listener);
        clearTimeout(timer);
        done();
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        fail(new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }, WAIT_MS);
      listeners.add(listener);
      listener();
    });
  let invokes = 0;
  return {
    posts,
    waitFor,
    nextRequests: () => nextRequests,
    stdout: () => stdout,
    exitCode: () => exited,
    async invoke(event, headers = {}) {
      invokes += 1;
      const id = `req-${invokes}`;
      queue.push({
        id,
        body: typeof event === "string" ? event : JSON.stringify(event),
        headers: {
          "lambda-runtime-aws-request-id": id,
          "lambda-runtime-deadline-ms": String(Date.now() + 3_000),
          "lambda-runtime-invoked-function-arn": "arn:aws:lambda:local:000000000000:function:orders",
          ...headers,
        },
      });
      serve();
      const isAnswer = (post: Post) => post.path.startsWith(`/2018-06-01/runtime/invocation/${id}/`);
      await waitFor(`the answer to ${id}`, () => posts.some(isAnswer));
      return posts.find(isAnswer) as Post;
    },
  };
}

/** A handler directory written at test time, for sources the linter must not see (broken on purpose). */
export function tempFunction(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-node-runtime-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
