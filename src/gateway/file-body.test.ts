import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { HttpServer } from "../platform/http-server.js";
import type { OpenBytes } from "../services/storage/blobs.js";
import { systemClock } from "../shared/clock.js";
import { fileBody } from "./file-body.js";

/** 9 MiB: more than the reused buffers hold at once, and more than the loopback takes unread. */
const SIZE = 9 * 1024 * 1024 + 123;

interface Got {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function get(url: string, o: { pauseMs?: number; abortAfter?: number } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      if (o.pauseMs !== undefined) {
        res.pause();
        setTimeout(() => res.resume(), o.pauseMs);
      }
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (o.abortAfter !== undefined && n >= o.abortAfter) req.destroy();
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
      res.on("close", () => {
        if (!res.complete) reject(new Error(`cut after ${n} bytes`));
      });
    });
    req.on("error", reject);
  });
}

/** Resolves once `bytes`' file is closed (a FileHandle's fd is -1 then). */
async function closed(bytes: OpenBytes): Promise<void> {
  for (let i = 0; i < 200 && bytes.handle.fd !== -1; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(bytes.handle.fd, -1, "the file is closed");
}

describe("a file body sent by the platform's HTTP server", () => {
  let dir: string;
  let path: string;
  let content: Buffer;
  let server: HttpServer;
  let base: string;
  /** What the next request answers with, given its request. */
  let answer: (req: Request) => Promise<Response>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "nimbus-file-body-"));
    path = join(dir, "blob");
    content = randomBytes(SIZE);
    await writeFile(path, content);
    server = new HttpServer(systemClock);
    base = await server.listen((req) => answer(req), "127.0.0.1", 0);
  });

  after(async () => {
    await server.flush();
    await rm(dir, { recursive: true, force: true });
  });

  const opened = async (start: number, length: number): Promise<OpenBytes> => ({
    handle: await open(path, "r"),
    start,
    length,
  });

  test("arrives whole, with every header the response set (cookies too), and the file is closed", async () => {
    const bytes = await opened(0, SIZE);
    answer = async (req) => {
      const headers = new Headers({ "content-length": String(SIZE), etag: '"abc"' });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response(fileBody(req, bytes), { status: 200, headers });
    };
    const got = await get(`${base}/`, { pauseMs: 100 });
    assert.equal(got.status, 200);
    assert.equal(got.headers.etag, '"abc"');
    assert.deepEqual(got.headers["set-cookie"], ["a=1", "b=2"]);
    assert.equal(got.body.length, SIZE);
    assert.ok(got.body.equals(content), "the bytes are the file's");
    await closed(bytes);
  });

  test("a range is the file's bytes from its start, as many as asked", async () => {
    const bytes = await opened(1000, 300_001);
    answer = async (req) =>
      new Response(fileBody(req, bytes), { status: 206, headers: { "content-length": "300001" } });
    const got = await get(`${base}/`);
    assert.equal(got.status, 206);
    assert.ok(got.body.equals(content.subarray(1000, 301_001)));
    await closed(bytes);
  });

  test("a file body left out of the response (an error answered instead) is closed, and the error answers", async () => {
    const bytes = await opened(0, SIZE);
    answer = async (req) => {
      fileBody(req, bytes);
      return new Response("no", { status: 500 });
    };
    const got = await get(`${base}/`);
    assert.equal(got.status, 500);
    assert.equal(got.body.toString(), "no");
    await closed(bytes);
  });

  test("a file shorter than the length promised cuts the connection, and the server goes on", async () => {
    const bytes = await opened(SIZE - 10, 20);
    answer = async (req) => new Response(fileBody(req, bytes), { headers: { "content-length": "20" } });
    await assert.rejects(get(`${base}/`), /cut after 10 bytes|socket hang up|aborted/);
    await closed(bytes);
    const whole = await opened(0, 5);
    answer = async (req) => new Response(fileBody(req, whole), { headers: { "content-length": "5" } });
    assert.ok((await get(`${base}/`)).body.equals(content.subarray(0, 5)));
  });

  test("a client that goes away mid-body leaves the file closed", async () => {
    const bytes = await opened(0, SIZE);
    answer = async (req) =>
      new Response(fileBody(req, bytes), { headers: { "content-length": String(SIZE) } });
    await assert.rejects(get(`${base}/`, { abortAfter: 1024 * 1024 }));
    await closed(bytes);
  });
});

describe("a file body read as a stream (no Node server: app.request, a wrapping response)", () => {
  test("gives the range's bytes, then closes the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nimbus-file-body-"));
    try {
      const content = randomBytes(700_000);
      await writeFile(join(dir, "blob"), content);
      const bytes = { handle: await open(join(dir, "blob"), "r"), start: 5, length: 600_000 };
      const read = Buffer.from(await new Response(fileBody(new Request("http://x/"), bytes)).arrayBuffer());
      assert.ok(read.equals(content.subarray(5, 600_005)));
      await closed(bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
