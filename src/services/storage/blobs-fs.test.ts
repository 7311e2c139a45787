import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { after, test } from "node:test";
import { type Clock, systemClock } from "../../shared/clock.js";
import { BlobSizeMismatch, BlobTooLarge, type BlobWriteOptions } from "./blobs.js";
import { FsBlobStore } from "./blobs-fs.js";

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function freshStore(clock: Clock = systemClock): Promise<{ store: FsBlobStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-blobs-"));
  dirs.push(dir);
  return { store: await FsBlobStore.open({ dir: join(dir, "objects"), clock }), dir: join(dir, "objects") };
}

/** A clock `aheadMs` in the future, so files written now already look that old to a sweep. */
const clockAhead = (aheadMs: number): Clock => ({ ...systemClock, now: () => Date.now() + aheadMs });

async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

const opts = (o: Partial<BlobWriteOptions> = {}): BlobWriteOptions => ({
  maxBytes: 1 << 20,
  checksums: [],
  ...o,
});
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

async function blobFiles(dir: string): Promise<string[]> {
  const shards = await readdir(join(dir, "blobs"));
  const files = await Promise.all(shards.map((s) => readdir(join(dir, "blobs", s))));
  return files.flat();
}
const tmpFiles = (dir: string) => readdir(join(dir, "tmp"));

test("opening creates the 256 shard directories and tmp/, private to the platform user", async () => {
  const { dir } = await freshStore();
  const shards = await readdir(join(dir, "blobs"));
  assert.equal(shards.length, 256);
  assert.ok(shards.includes("00") && shards.includes("ff"));
  for (const d of [dir, join(dir, "blobs"), join(dir, "blobs", "a7"), join(dir, "tmp")]) {
    assert.equal((await stat(d)).mode & 0o777, 0o700, d);
  }
  await FsBlobStore.open({ dir, clock: systemClock }); // a second start finds them all
});

test("a committed write is a 0600 file at blobs/<first 2 hex>/<id>, read back whole and by range", async () => {
  const { store, dir } = await freshStore();
  const pending = await store.write(
    pieces("hello ", "world"),
    opts({ checksums: ["CRC32"], expectedSize: 11 }),
  );
  assert.deepEqual(pending.digests, { size: 11, md5: md5("hello world"), checksums: { CRC32: "DUoRhQ==" } });
  const id = await pending.commit();
  assert.match(id, /^[0-9a-f]{32}$/);
  const path = join(dir, "blobs", id.slice(0, 2), id);
  assert.equal(await readFile(path, "utf8"), "hello world");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(await tmpFiles(dir), []);
  assert.equal(await text(store.read(id)), "hello world");
  assert.equal(await text(store.read(id, { start: 6, end: 10 })), "world");
  assert.equal(await text(store.read(id, { start: 0, end: 0 })), "h");
  assert.equal(await store.size(id), 11);
});

test("two writes get different ids, and an empty body is a blob too", async () => {
  const { store } = await freshStore();
  const a = await (await store.write(pieces("same"), opts())).commit();
  const b = await (await store.write(pieces("same"), opts())).commit();
  assert.notEqual(a, b);
  const empty = await store.write(pieces(), opts({ expectedSize: 0 }));
  assert.equal(empty.digests.md5, "d41d8cd98f00b204e9800998ecf8427e");
  assert.equal(await store.size(await empty.commit()), 0);
});

test("a body past maxBytes fails with BlobTooLarge and leaves no file", async () => {
  const { store, dir } = await freshStore();
  await assert.rejects(
    store.write(pieces("12345", "6789"), opts({ maxBytes: 8 })),
    (e: unknown) => e instanceof BlobTooLarge && e.message === "body is over the limit of 8 bytes",
  );
  assert.deepEqual(await tmpFiles(dir), []);
  assert.deepEqual(await blobFiles(dir), []);
});

test("a declared size over maxBytes fails before the body is read", async () => {
  const { store, dir } = await freshStore();
  let pulled = false;
  async function* body() {
    pulled = true;
    yield Buffer.from("x");
  }
  await assert.rejects(store.write(body(), opts({ maxBytes: 8, expectedSize: 9 })), BlobTooLarge);
  assert.equal(pulled, false);
  assert.deepEqual(await tmpFiles(dir), []);
});

test("a body shorter or longer than its declared size fails with BlobSizeMismatch and leaves no file", async () => {
  const { store, dir } = await freshStore();
  await assert.rejects(
    store.write(pieces("abc"), opts({ expectedSize: 4 })),
    (e: unknown) => e instanceof BlobSizeMismatch && e.message === "body has 3 bytes, 4 were declared",
  );
  await assert.rejects(
    store.write(pieces("ab", "cde"), opts({ expectedSize: 4 })),
    (e: unknown) => e instanceof BlobSizeMismatch && e.message === "body has more than the 4 bytes declared",
  );
  assert.deepEqual(await tmpFiles(dir), []);
  assert.deepEqual(await blobFiles(dir), []);
});

test("a source that throws mid-way fails the write with its error and leaves no file", async () => {
  const { store, dir } = await freshStore();
  async function* broken() {
    yield Buffer.from("first half");
    throw new Error("client went away");
  }
  await assert.rejects(store.write(broken(), opts()), /client went away/);
  assert.deepEqual(await tmpFiles(dir), []);
  assert.deepEqual(await blobFiles(dir), []);
});

test("a discarded write leaves nothing, cannot be committed, and committing twice answers the same id", async () => {
  const { store, dir } = await freshStore();
  const refused = await store.write(pieces("refused"), opts());
  assert.equal((await tmpFiles(dir)).length, 1);
  await refused.discard();
  assert.deepEqual(await tmpFiles(dir), []);
  await assert.rejects(refused.commit(), /was discarded and cannot be committed/);

  const kept = await store.write(pieces("kept"), opts());
  const id = await kept.commit();
  assert.equal(await kept.commit(), id);
  await kept.discard(); // a committed blob is the record's now: discard leaves it
  assert.equal(await store.size(id), 4);
});

test("size is undefined and delete is quiet for a blob that is not there", async () => {
  const { store } = await freshStore();
  const id = await (await store.write(pieces("bye"), opts())).commit();
  const absent = "0123456789abcdef0123456789abcdef";
  assert.equal(await store.size(absent), undefined);
  await store.delete([id, absent]);
  assert.equal(await store.size(id), undefined);
  await store.delete([id]);
});

test("an id that is not 32 hex digits never reaches the file system", async () => {
  const { store } = await freshStore();
  assert.throws(
    () => store.read("../../etc/passwd"),
    /blob id "..\/..\/etc\/passwd" is not 32 lowercase hex digits/,
  );
  await assert.rejects(store.size("00/../../x"), /is not 32 lowercase hex digits/);
});

test("sweep removes old unreferenced blobs and old temporary files, and keeps the rest", async () => {
  const { dir } = await freshStore();
  const store = await FsBlobStore.open({ dir, clock: systemClock });
  const write = async (body: string) => (await store.write(pieces(body), opts())).commit();
  const [referencedOld, orphanOld, orphanNew] = [await write("a"), await write("b"), await write("c")];
  await writeFile(join(dir, "tmp", "crash-leftover"), "partial");
  await writeFile(join(dir, "tmp", "in-progress"), "partial");
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const id of [referencedOld, orphanOld])
    await utimes(join(dir, "blobs", id.slice(0, 2), id), hourAgo, hourAgo);
  await utimes(join(dir, "tmp", "crash-leftover"), hourAgo, hourAgo);

  async function* referenced() {
    yield referencedOld;
  }
  assert.equal(await store.sweep(referenced(), 60_000), 2);
  assert.deepEqual((await blobFiles(dir)).sort(), [referencedOld, orphanNew].sort());
  assert.deepEqual(await tmpFiles(dir), ["in-progress"]);
  assert.equal(await store.sweep(referenced(), 60_000), 0);
});

test("a 72 MiB body streams through in 1 MiB pieces: the source is at most one piece ahead of the disk, memory stays flat", async () => {
  const { store, dir } = await freshStore();
  const CHUNK = 1 << 20;
  const CHUNKS = 72;
  const reused = Buffer.alloc(CHUNK); // safe to reuse: the store copies each batch before it asks for more
  const expected = createHash("md5");
  const startBuffers = process.memoryUsage().arrayBuffers;
  let peakBuffers = startBuffers;
  async function* body() {
    for (let i = 0; i < CHUNKS; i++) {
      if (i % 8 === 0) {
        const [tmp] = await tmpFiles(dir);
        const onDisk = (await stat(join(dir, "tmp", tmp!))).size;
        // One batch may still be on its way to the disk while the next is read.
        assert.ok(
          onDisk >= (i - 1) * CHUNK && onDisk <= i * CHUNK,
          `${onDisk} bytes on disk before piece ${i}`,
        );
      }
      reused.fill(i);
      expected.update(reused);
      peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers);
      yield reused;
    }
  }
  const pending = await store.write(body(), {
    maxBytes: 5 * 1024 ** 3,
    checksums: ["CRC32"],
    expectedSize: CHUNK * CHUNKS,
  });
  assert.equal(pending.digests.md5, expected.digest("hex"));
  const id = await pending.commit();
  assert.equal(await store.size(id), CHUNK * CHUNKS);
  const growthMiB = (peakBuffers - startBuffers) / CHUNK;
  assert.ok(growthMiB < 8, `buffers grew by ${growthMiB.toFixed(1)} MiB while writing 72 MiB`);
  const first = await text(store.read(id, { start: CHUNK - 1, end: CHUNK }));
  assert.deepEqual(Buffer.from(first, "latin1"), Buffer.from([0, 1]));
});

test("a writer killed with SIGKILL mid-write leaves its committed blob and no other; sweep removes its temp file", async () => {
  const { dir } = await freshStore();
  const child = `
    const { FsBlobStore } = await import(process.env.BLOBS_MODULE);
    const { systemClock } = await import(process.env.CLOCK_MODULE);
    const store = await FsBlobStore.open({ dir: process.env.BLOBS_DIR, clock: systemClock });
    async function* once(s) { yield Buffer.from(s); }
    const id = await (await store.write(once("committed"), { maxBytes: 100, checksums: [] })).commit();
    process.stdout.write("committed " + id + "\\n");
    setInterval(() => {}, 60_000);
    async function* stalls() { yield Buffer.from("half of a body"); process.stdout.write("writing\\n"); await new Promise(() => {}); }
    await store.write(stalls(), { maxBytes: 100, checksums: [] });
  `;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", child], {
    env: {
      ...process.env,
      BLOBS_MODULE: new URL("./blobs-fs.js", import.meta.url).href,
      CLOCK_MODULE: new URL("../../shared/clock.js", import.meta.url).href,
      BLOBS_DIR: dir,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("writing\n")) resolve();
    });
    proc.on("exit", (code) => reject(new Error(`child exited (${code}) before writing: ${out}`)));
  });
  proc.kill("SIGKILL");
  await new Promise((resolve) => proc.once("exit", resolve));

  const committed = /committed ([0-9a-f]{32})/.exec(out)?.[1];
  assert.ok(committed);
  assert.deepEqual(await blobFiles(dir), [committed]);
  const tmps = await tmpFiles(dir);
  assert.equal(tmps.length, 1, "the write in progress is a temporary file");
  // What the disk got before the kill: pieces go to it in batches, so possibly nothing yet.
  const partial = await readFile(join(dir, "tmp", tmps[0]!), "utf8");
  assert.ok("half of a body".startsWith(partial), `temporary file holds ${JSON.stringify(partial)}`);

  const store = await FsBlobStore.open({ dir, clock: clockAhead(60_000) });
  async function* referenced() {
    yield committed!;
  }
  assert.equal(await store.sweep(referenced(), 1000), 1);
  assert.deepEqual(await tmpFiles(dir), []);
  assert.equal(await text(store.read(committed)), "committed");
});

test("micro-benchmark: 4 KB writes and commits per second, one at a time and 32 at once (reported, not asserted)", async (t) => {
  const { store } = await freshStore();
  const body = Buffer.alloc(4096, 7);
  async function* once() {
    yield body;
  }
  const put = async () =>
    (await store.write(once(), { maxBytes: 8192, checksums: ["CRC32"], expectedSize: 4096 })).commit();
  const rate = async (n: number, concurrency: number) => {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) await put();
      }),
    );
    return Math.round(n / ((performance.now() - start) / 1000));
  };
  const sequential = await rate(200, 1);
  const concurrent = await rate(640, 32);
  t.diagnostic(
    `4 KB write+commit (fdatasync, rename, dir fsync): ${sequential}/s sequential, ${concurrent}/s with 32 at once`,
  );
});
