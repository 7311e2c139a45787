import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeFrame, FrameDecoder } from "../../protocol/runtime-frames.js";

const CLIENT_URL = new URL("./framed-client.js", import.meta.url).href;
const REPLY_DELAY_MS = 100;
const EXIT_WAIT_MS = 5_000;

test("the runtime's connection holds the process only while a call waits for its reply", async (t) => {
  // A Runtime API that answers "next" late and then keeps the connection open, as the platform does.
  const dir = mkdtempSync(join(tmpdir(), "nimbus-framed-"));
  const path = join(dir, "api.sock");
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const _ of decoder.push(chunk)) {
        setTimeout(() => {
          const headers = { "lambda-runtime-aws-request-id": "req-1" };
          socket.write(encodeFrame({ op: "event", headers }, "{}"));
        }, REPLY_DELAY_MS);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // With nothing else to do, the process must wait for the reply (a top-level await left
  // unsettled would exit 13), then exit on its own although the connection stays open.
  const script = `
    import { FramedRuntimeApiClient } from ${JSON.stringify(CLIENT_URL)};
    const client = new FramedRuntimeApiClient(${JSON.stringify(path)});
    const event = await client.next();
    console.log(event.headers["lambda-runtime-aws-request-id"]);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "--eval", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, EXIT_WAIT_MS);
    child.on("exit", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  assert.notEqual(code, null, `the idle connection kept the process alive past ${EXIT_WAIT_MS} ms`);
  assert.equal(code, 0, `the process exited ${code} before the reply came: ${output}`);
  assert.equal(output, "req-1\n");
});
