/**
 * End to end through the `nimbus` command, against a real platform: buckets created, listed and
 * deleted (refused while they hold objects, emptied with --force); files copied up and back
 * (from standard input, to standard output, 70 MiB as a multipart upload, a directory with
 * --recursive); listings with prefixes and across pages; objects and prefixes deleted; presigned
 * URLs used with plain fetch; S3's own words when it refuses.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type CliResult, cliEnv, NIMBUS, nimbus } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { s3Client } from "./helpers/s3.js";

const MiB = 1024 * 1024;

let t: TestPlatform;
let s3: S3Client;
let dir: string;
let cli: (...args: string[]) => Promise<CliResult>;

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  dir = mkdtempSync(join(tmpdir(), "nimbus-cli-storage-"));
  cli = (...args) => nimbus(t.dataDir, ...args);
});

after(async () => {
  s3.destroy();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI with `input` on its standard input; its standard output as bytes. */
function cliBytes(input: Buffer | undefined, ...args: string[]) {
  return new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((done) => {
    const child = spawn(process.execPath, [NIMBUS, ...args], { env: cliEnv(t.dataDir) });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) => done({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input);
  });
}

const ok = (r: { code: number | null; stderr: string }) =>
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path)
      .on("data", (c) => h.update(c))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

interface Listing {
  CommonPrefixes: Array<{ Prefix: string }>;
  Contents: Array<{ Key: string; ETag: string; Size: number; LastModified: string }>;
}

async function listing(target: string, ...flags: string[]): Promise<Listing> {
  const r = await cli("storage", "ls", target, "--json", ...flags);
  ok(r);
  return JSON.parse(r.stdout) as Listing;
}

describe("nimbus storage", () => {
  test("buckets create and ls; a file up and back, from stdin, to stdout", async () => {
    const created = await cli("storage", "buckets", "create", "photos");
    ok(created);
    assert.equal(created.stdout, "created the bucket photos\n");
    const [table, json] = await Promise.all([
      cli("storage", "buckets", "ls"),
      cli("storage", "buckets", "ls", "--json"),
    ]);
    ok(table);
    assert.match(table.stdout, /^NAME\s+CREATED\n/);
    assert.match(table.stdout, /^photos\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    ok(json);
    const { Buckets } = JSON.parse(json.stdout) as { Buckets: Array<{ Name: string; CreationDate: string }> };
    assert.deepEqual(
      Buckets.map((b) => b.Name),
      ["photos"],
    );

    const bytes = randomBytes(100_000);
    const file = join(dir, "cat.jpg");
    writeFileSync(file, bytes);
    const up = await cli("storage", "cp", file, "s3://photos/2026/");
    ok(up);
    assert.equal(up.stdout, `upload: ${file} to s3://photos/2026/cat.jpg\n`);
    const down = await cli("storage", "cp", "s3://photos/2026/cat.jpg", join(dir, "back/"));
    ok(down);
    assert.equal(down.stdout, `download: s3://photos/2026/cat.jpg to ${join(dir, "back", "cat.jpg")}\n`);
    assert.ok(readFileSync(join(dir, "back", "cat.jpg")).equals(bytes), "the same bytes came back");

    const piped = randomBytes(50_000);
    ok(await cliBytes(piped, "storage", "cp", "-", "s3://photos/notes/piped.bin"));
    const out = await cliBytes(undefined, "storage", "cp", "s3://photos/notes/piped.bin", "-");
    ok(out);
    assert.ok(out.stdout.equals(piped), "standard input went up, standard output brought it back");
  });

  test("a 70 MiB file goes up as a multipart upload of five parts and comes back whole", async () => {
    const file = join(dir, "big.bin");
    writeFileSync(file, randomBytes(70 * MiB));
    ok(await cli("storage", "cp", file, "s3://photos/big/big.bin"));
    const { Contents } = await listing("s3://photos/big/");
    assert.equal(Contents.length, 1);
    assert.equal(Contents[0]?.Size, 70 * MiB);
    assert.match(Contents[0]?.ETag ?? "", /^"[0-9a-f]{32}-5"$/);
    const back = join(dir, "big-back.bin");
    ok(await cli("storage", "cp", "s3://photos/big/big.bin", back));
    assert.equal(await sha256Of(back), await sha256Of(file));
  });

  test("ls: prefixes then objects, --recursive every key; cp --recursive both ways; rm and rm --recursive", async () => {
    ok(await cli("storage", "buckets", "create", "s3://tree"));
    const local = join(dir, "tree");
    for (const [name, text] of [
      ["a.txt", "a"],
      ["dir/b.txt", "bb"],
      ["dir/sub/c.txt", "ccc"],
      ["dir2/d.txt", "dddd"],
    ] as const) {
      mkdirSync(join(local, name, ".."), { recursive: true });
      writeFileSync(join(local, name), text);
    }
    const up = await cli("storage", "cp", "--recursive", local, "s3://tree/");
    ok(up);
    assert.equal(up.stdout.split("\n").filter((l) => l.startsWith("upload: ")).length, 4);

    const [top, sub, all] = await Promise.all([
      cli("storage", "ls", "tree"),
      cli("storage", "ls", "s3://tree/dir/"),
      cli("storage", "ls", "tree", "--recursive"),
    ]);
    const row = (size: number, name: string) =>
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d {1,10}${size} ${name.replace(".", "\\.")}$`);
    const lines = (r: CliResult) => r.stdout.trimEnd().split("\n");
    ok(top);
    const topLines = lines(top);
    assert.deepEqual(topLines.slice(0, 2), [`${" ".repeat(27)}PRE dir/`, `${" ".repeat(27)}PRE dir2/`]);
    assert.match(topLines[2] ?? "", row(1, "a.txt"));
    assert.equal(topLines.length, 3);
    ok(sub);
    assert.equal(lines(sub)[0], `${" ".repeat(27)}PRE sub/`);
    assert.match(lines(sub)[1] ?? "", row(2, "b.txt"));
    ok(all);
    assert.deepEqual(
      lines(all).map((l) => l.slice(31)),
      ["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir2/d.txt"],
    );
    const json = await listing("tree/dir/");
    assert.deepEqual(json.CommonPrefixes, [{ Prefix: "dir/sub/" }]);
    assert.deepEqual(
      json.Contents.map((c) => [c.Key, c.Size]),
      [["dir/b.txt", 2]],
    );

    const down = join(dir, "tree-back");
    ok(await cli("storage", "cp", "--recursive", "s3://tree/dir", down));
    assert.equal(readFileSync(join(down, "b.txt"), "utf8"), "bb");
    assert.equal(readFileSync(join(down, "sub", "c.txt"), "utf8"), "ccc");

    const one = await cli("storage", "rm", "s3://tree/a.txt");
    ok(one);
    assert.equal(one.stdout, "delete: s3://tree/a.txt\n");
    const prefix = await cli("storage", "rm", "--recursive", "s3://tree/dir");
    ok(prefix);
    assert.equal(prefix.stdout, "delete: s3://tree/dir/b.txt\ndelete: s3://tree/dir/sub/c.txt\n");
    assert.deepEqual(
      (await listing("tree", "--recursive")).Contents.map((c) => c.Key),
      ["dir2/d.txt"],
      "dir2/ is not under dir/",
    );
    const forced = await cli("storage", "buckets", "rm", "tree", "--force");
    ok(forced);
    assert.equal(forced.stdout, "deleted 1 object version in tree\ndeleted the bucket tree\n");
  });

  test("ls and rm --recursive page through more than 1,000 keys", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "many" }));
    const keys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 100)
      await Promise.all(
        keys
          .slice(i, i + 100)
          .map((Key) => s3.send(new PutObjectCommand({ Bucket: "many", Key, Body: "x" }))),
      );
    const listed = await listing("many", "--recursive");
    assert.deepEqual(
      listed.Contents.map((c) => c.Key),
      keys,
    );
    const removed = await cli("storage", "rm", "--recursive", "s3://many/k/");
    ok(removed);
    assert.equal(removed.stdout.split("\n").filter((l) => l.startsWith("delete: s3://many/k/")).length, 1005);
    const empty = await cli("storage", "ls", "many", "--recursive");
    ok(empty);
    assert.equal(empty.stdout, "");
    ok(await cli("storage", "buckets", "rm", "many"));
  });

  test("buckets rm refuses a bucket that holds objects; --force deletes every version and upload first", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "versioned" }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "versioned", VersioningConfiguration: { Status: "Enabled" } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: "versioned", Key: "a", Body: "1" }));
    await s3.send(new PutObjectCommand({ Bucket: "versioned", Key: "a", Body: "2" }));
    await s3.send(new DeleteObjectCommand({ Bucket: "versioned", Key: "a" }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: "versioned", Key: "unfinished" }));

    const refused = await cli("storage", "buckets", "rm", "versioned");
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      "error: The bucket you tried to delete is not empty (BucketNotEmpty)\n--force deletes everything in it first\n",
    );
    const forced = await cli("storage", "buckets", "rm", "versioned", "--force");
    ok(forced);
    assert.equal(forced.stdout, "deleted 3 object versions in versioned\ndeleted the bucket versioned\n");
    assert.doesNotMatch((await cli("storage", "buckets", "ls")).stdout, /versioned/);
  });

  test("presigned URLs: a GET and a PUT with plain fetch, no key", async () => {
    const bytes = randomBytes(10_000);
    await s3.send(new PutObjectCommand({ Bucket: "photos", Key: "shared/cat photo.jpg", Body: bytes }));
    const get = await cli("storage", "presign", "s3://photos/shared/cat photo.jpg");
    ok(get);
    const url = get.stdout.trim();
    assert.match(url, /\/s3\/photos\/shared\/cat%20photo\.jpg\?.*X-Amz-Expires=3600/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));

    const put = await cli(
      "storage",
      "presign",
      "s3://photos/uploads/new.txt",
      "--put",
      "--expires",
      "600",
      "--json",
    );
    ok(put);
    const signed = JSON.parse(put.stdout) as { Url: string; Method: string; Expires: string };
    assert.equal(signed.Method, "PUT");
    assert.ok(Math.abs(Date.parse(signed.Expires) - Date.now() - 600_000) < 60_000, signed.Expires);
    const uploaded = await fetch(signed.Url, { method: "PUT", body: "uploaded with a link" });
    assert.equal(uploaded.status, 200, await uploaded.text());
    const back = await cliBytes(undefined, "storage", "cp", "s3://photos/uploads/new.txt", "-");
    ok(back);
    assert.equal(back.stdout.toString(), "uploaded with a link");

    const tooLong = await cli("storage", "presign", "s3://photos/x", "--expires", "604801");
    assert.equal(tooLong.code, 2);
    assert.match(tooLong.stderr, /expected an integer from 1 to 604800/);
  });

  test("S3's refusals are its message and code, exit 1; a bad command line exits 2", async () => {
    const target = join(dir, "never.bin");
    const [ls, cp, missingFile, local] = await Promise.all([
      cli("storage", "ls", "s3://nosuch/"),
      cli("storage", "cp", "s3://nosuch/x", target),
      cli("storage", "cp", join(dir, "no-such-file"), "s3://photos/x"),
      cli("storage", "cp", "a", "b"),
    ]);
    assert.equal(ls.code, 1);
    assert.equal(ls.stderr, "error: The specified bucket does not exist (NoSuchBucket)\n");
    assert.equal(cp.code, 1);
    assert.equal(cp.stderr, "error: The specified bucket does not exist (NoSuchBucket)\n");
    assert.equal(existsSync(target), false, "nothing written for a failed download");
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /^error: cannot read .*no-such-file: no such file\n$/);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /copy local files with cp\(1\)/);
  });
});
