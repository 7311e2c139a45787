import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeFrame, FrameDecoder, MAX_STREAM_CHUNK_BYTES } from "../../protocol/runtime-frames.js";
import { FramedRuntimeApiClient } from "./framed-client.js";

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

test("a streamed response goes as a frame per write (a large one split), answered only at its end", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-framed-"));
  const path = join(dir, "api.sock");
  const frames: { header: unknown; body: Buffer }[] = [];
  const server = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        frames.push(frame);
        if ((frame.header as { op: string }).op === "stream-end")
          socket.write(encodeFrame({ op: "answer", status: 202 }, '{"status":"OK"}'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const client = new FramedRuntimeApiClient(path);
  t.after(() => {
    client.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const big = Buffer.alloc(MAX_STREAM_CHUNK_BYTES * 2 + 100, 7);
  const sink = client.openStream("req-9");
  await new Promise<void>((resolve, reject) =>
    sink.write(big, "text/plain", (e) => (e ? reject(e) : resolve())),
  );
  await new Promise<void>((resolve) => sink.write(Buffer.from("tail"), "text/plain", () => resolve()));
  const answer = await sink.end("text/plain", { errorType: "TypeError", errorMessage: "late", trace: [] });
  assert.equal(answer.status, 202);
  assert.deepEqual(
    frames.map((f) => [f.header, f.body.length]),
    [
      [
        { op: "stream-start", requestId: "req-9", headers: { "content-type": "text/plain" } },
        MAX_STREAM_CHUNK_BYTES,
      ],
      [{ op: "stream-chunk" }, MAX_STREAM_CHUNK_BYTES],
      [{ op: "stream-chunk" }, 100],
      [{ op: "stream-chunk" }, 4],
      [{ op: "stream-end", errorType: "TypeError" }, 58],
    ],
  );
  assert.deepEqual(Buffer.concat(frames.slice(0, 3).map((f) => f.body)), big);
  assert.deepEqual(JSON.parse(frames[4]!.body.toString()), {
    errorType: "TypeError",
    errorMessage: "late",
    trace: [],
  });

  // A stream ended before any write still starts, with its content type, then ends.
  frames.length = 0;
  await client.openStream("req-10").end("application/json", undefined);
  assert.deepEqual(
    frames.map((f) => [f.header, f.body.length]),
    [
      [{ op: "stream-start", requestId: "req-10", headers: { "content-type": "application/json" } }, 0],
      [{ op: "stream-end" }, 0],
    ],
  );
});
