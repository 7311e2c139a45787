/**
 * Both Runtime API transports tell the instance when a streamed response is lost before its
 * end (the runtime's connection closed), and only then.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeFrame } from "../../protocol/runtime-frames.js";
import { RuntimeApiServer } from "./server.js";
import { ACCEPTED, type RuntimeApiTarget, type StreamWriter } from "./target.js";

/** A target that notes what happened to the one stream it is sent. */
function recordingTarget() {
  const seen: string[] = [];
  let settled: () => void = () => {};
  const done = new Promise<void>((r) => {
    settled = r;
  });
  const writer: StreamWriter = {
    write: (chunk) => {
      seen.push(`chunk ${chunk.toString()}`);
      return true;
    },
    whenReady: (resume) => resume(),
    end: async () => {
      seen.push("end");
      settled();
      return ACCEPTED;
    },
    cut: () => {
      seen.push("cut");
      settled();
    },
  };
  const target: RuntimeApiTarget = {
    next: () => {},
    complete: async () => ACCEPTED,
    initError: async () => ACCEPTED,
    beginStream: () => writer,
  };
  return { target, seen, done };
}

function withServer(
  run: (server: RuntimeApiServer, rec: ReturnType<typeof recordingTarget>, dir: string) => Promise<void>,
) {
  return async () => {
    const rec = recordingTarget();
    const server = new RuntimeApiServer(rec.target);
    const dir = mkdtempSync(join(tmpdir(), "nimbus-transport-"));
    try {
      await run(server, rec, dir);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function streamOverHttp(address: string, finish: "end" | "drop") {
  const [host, port] = address.split(":");
  const req = request({
    host,
    port,
    method: "POST",
    path: "/2018-06-01/runtime/invocation/r1/response",
    headers: { "lambda-runtime-function-response-mode": "streaming", "content-type": "text/plain" },
  });
  req.on("error", () => {});
  req.on("response", (res) => res.resume());
  req.write("one", () => {
    setTimeout(() => (finish === "end" ? req.end("two") : req.destroy()), 50);
  });
}

test(
  "HTTP: a chunked body that stops without its last chunk cuts the stream",
  withServer(async (server, rec) => {
    streamOverHttp(await server.listen({ loopback: true }), "drop");
    await rec.done;
    assert.deepEqual(rec.seen, ["chunk one", "cut"]);
  }),
);

test(
  "HTTP: a body that ends with its last chunk ends the stream, and is not cut when the connection closes",
  withServer(async (server, rec) => {
    streamOverHttp(await server.listen({ loopback: true }), "end");
    await rec.done;
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(rec.seen, ["chunk one", "chunk two", "end"]);
  }),
);

function streamOverFrames(socketPath: string, finish: "end" | "drop") {
  const socket = createConnection(socketPath);
  socket.on("error", () => {});
  socket.write(
    encodeFrame({ op: "stream-start", requestId: "r1", headers: { "content-type": "text/plain" } }, "one"),
  );
  setTimeout(() => {
    if (finish === "drop") socket.destroy();
    else socket.end(encodeFrame({ op: "stream-end" }));
  }, 50);
}

test(
  "frames: a socket closed between a stream's frames cuts the stream",
  withServer(async (server, rec, dir) => {
    const path = join(dir, "framed.sock");
    await server.listen({ framedSocket: path });
    streamOverFrames(path, "drop");
    await rec.done;
    assert.deepEqual(rec.seen, ["chunk one", "cut"]);
  }),
);

test(
  "frames: a stream-end just before the close ends the stream, uncut",
  withServer(async (server, rec, dir) => {
    const path = join(dir, "framed.sock");
    await server.listen({ framedSocket: path });
    streamOverFrames(path, "end");
    await rec.done;
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(rec.seen, ["chunk one", "end"]);
  }),
);
