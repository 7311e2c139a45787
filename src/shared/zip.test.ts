import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import zlib from "node:zlib";
import yazl from "yazl";
import { NimbusError } from "./errors.js";
import { extractZip, inspectZip, type ZipLimits } from "./zip.js";

const MIB = 1024 * 1024;
const sandboxes: string[] = [];
after(async () => {
  for (const dir of sandboxes) await rm(dir, { recursive: true, force: true });
});

async function sandbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-zip-"));
  sandboxes.push(dir);
  return dir;
}

interface YazlFile {
  name: string;
  data?: string | Buffer;
  mode?: number;
  dir?: boolean;
}

function yazlZip(files: YazlFile[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const f of files) {
    if (f.dir) zip.addEmptyDirectory(f.name);
    else zip.addBuffer(Buffer.from(f.data ?? ""), f.name, f.mode ? { mode: f.mode } : {});
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}

interface RawEntry {
  name: string;
  data?: string | Buffer;
  method?: number;
  /** Bytes stored in the archive; defaults to data, deflated when method is 8. */
  stored?: Buffer;
  uncompressedSize?: number;
  crc?: number;
  flags?: number;
  madeBy?: number;
  external?: number;
}

/** Little-endian fields, as Python's struct writes them: "I" 4 bytes, "H" 2 bytes. */
function pack(format: string, ...values: number[]): Buffer {
  const buf = Buffer.alloc([...format].reduce((n, c) => n + (c === "I" ? 4 : 2), 0));
  let at = 0;
  for (const [i, c] of [...format].entries()) {
    at = c === "I" ? buf.writeUInt32LE(values[i]!, at) : buf.writeUInt16LE(values[i]!, at);
  }
  return buf;
}

/** Local headers, central directory and end record by hand, for what yazl refuses to write. */
function rawZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const data = Buffer.from(e.data ?? "");
    const method = e.method ?? 0;
    const stored = e.stored ?? (method === 8 ? zlib.deflateRawSync(data) : data);
    const crc = e.crc ?? zlib.crc32(data);
    const size = e.uncompressedSize ?? data.length;
    const flags = (e.flags ?? 0) | 0x800; // UTF-8 names
    const sizes = [crc, stored.length, size, name.length, 0] as const; // 0: no extra field
    // Version 2.0, time 00:00, date 1980-01-01 (0x21).
    parts.push(pack("IHHHHHIIIHH", 0x04034b50, 20, flags, method, 0, 0x21, ...sizes), name, stored);
    const madeBy = e.madeBy ?? 0x0314; // Unix, zip 2.0
    const external = e.external ?? (0o100644 << 16) >>> 0;
    const head = [0x02014b50, madeBy, 20, flags, method, 0, 0x21, ...sizes, 0, 0, 0, external, offset];
    centrals.push(pack("IHHHHHHIIIHHHHHII", ...head), name);
    offset += 30 + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = pack("IHHHHIIH", 0x06054b50, 0, 0, entries.length, entries.length, directory.length, offset, 0);
  return Buffer.concat([...parts, directory, end]);
}

/** Both entry points refuse the zip with this error, and extraction leaves nothing behind. */
async function expectRefused(
  zip: Buffer,
  message: string | RegExp,
  code = "InvalidZipFile",
  limits?: Partial<ZipLimits>,
) {
  const expected = { name: "NimbusError", code, message };
  await assert.rejects(inspectZip(zip, limits), expected);
  const box = await sandbox();
  await assert.rejects(extractZip(zip, join(box, "dest"), limits), expected);
  assert.deepEqual(await readdir(box), [], "the destination is removed and nothing lands beside it");
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test("extracts files and directories, keeping only each file's executable bit", async () => {
  const files: YazlFile[] = [
    { name: "bootstrap", data: "#!/bin/sh\necho hi\n", mode: 0o100755 },
    { name: "index.js", data: "export const handler = () => 1;\n", mode: 0o100664 },
    { name: "lib/util.js", data: "module.exports = 2;\n" },
    { name: "lib/deep/data.json", data: '{"a":1}', mode: 0o104700 },
    { name: "assets/big.bin", data: Buffer.from("0123456789abcdef".repeat(MIB / 4)) },
    { name: "empty/", dir: true },
  ];
  const zip = await yazlZip(files);
  const dest = join(await sandbox(), "pkg");
  const summary = await extractZip(zip, dest);
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.data ?? ""), 0);
  assert.deepEqual(summary, { entries: 6, files: 5, unzippedBytes: bytes });
  assert.equal(await readFile(join(dest, "lib/deep/data.json"), "utf8"), '{"a":1}');
  assert.deepEqual(await readFile(join(dest, "assets/big.bin")), Buffer.from(files[4]!.data!));
  assert.equal(await mode(join(dest, "bootstrap")), 0o755);
  assert.equal(await mode(join(dest, "index.js")), 0o644);
  assert.equal(await mode(join(dest, "lib/deep/data.json")), 0o755, "setuid dropped, executable kept");
  assert.equal(await mode(join(dest, "lib/util.js")), 0o644);
  for (const dir of ["assets", "lib", "lib/deep", "empty"]) assert.equal(await mode(join(dest, dir)), 0o755);
});

test("inspects a zip without writing anything and reports what extraction would", async () => {
  const zip = await yazlZip([
    { name: "a.txt", data: "hello" },
    { name: "b/c.txt", data: "world!" },
  ]);
  assert.deepEqual(await inspectZip(zip), { entries: 2, files: 2, unzippedBytes: 11 });
});

test("gives files from a zip made on Windows (no Unix mode) mode 0644", async () => {
  const zip = rawZip([{ name: "index.js", data: "x", madeBy: 0x0014, external: 0x20 }]);
  const dest = join(await sandbox(), "pkg");
  await extractZip(zip, dest);
  assert.equal(await mode(join(dest, "index.js")), 0o644);
});

test("keeps a symlink that stays inside the package as a symlink", async () => {
  const zip = await yazlZip([
    { name: "node_modules/tool/cli.js", data: "#!/usr/bin/env node\n", mode: 0o100755 },
    { name: "node_modules/.bin/tool", data: "../tool/cli.js", mode: 0o120777 },
  ]);
  const dest = join(await sandbox(), "pkg");
  assert.deepEqual(await extractZip(zip, dest), { entries: 2, files: 2, unzippedBytes: 20 + 14 });
  const link = join(dest, "node_modules/.bin/tool");
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(await readlink(link), "../tool/cli.js");
  assert.equal(await readFile(link, "utf8"), "#!/usr/bin/env node\n");
});

test("refuses a package larger than the zip limit", async () => {
  await expectRefused(Buffer.alloc(61 * MIB), "package is 61.0 MB, limit is 50 MB", "RequestTooLarge");
});

test("refuses bytes that are not a zip archive, or a truncated one", async () => {
  await expectRefused(
    Buffer.from("definitely not a zip"),
    "package is not a valid zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.",
  );
  const zip = await yazlZip([{ name: "a.txt", data: "hello" }]);
  await expectRefused(zip.subarray(0, zip.length - 10), /^package is not a valid zip archive: /);
});

test("refuses entries whose data is corrupt", async () => {
  const badCrc = rawZip([{ name: "a.txt", data: "hello", crc: 1234 }]);
  await expectRefused(badCrc, 'entry "a.txt" is corrupt: its CRC-32 does not match');
  const garbage = rawZip([
    { name: "a.txt", data: "hello", method: 8, stored: Buffer.from([0xff, 0xff, 0xff]) },
  ]);
  await expectRefused(garbage, /^package is not a valid zip archive: entry "a.txt": invalid block type$/);
  const short = rawZip([{ name: "a.txt", data: "hello", uncompressedSize: 9 }]);
  await expectRefused(short, 'entry "a.txt" is truncated: 5 of 9 bytes');
});

test("refuses a zip with no files", async () => {
  await expectRefused(await yazlZip([]), "package contains no files");
  await expectRefused(await yazlZip([{ name: "only-a-dir/", dir: true }]), "package contains no files");
});

test("refuses entry names that could land outside the package", async () => {
  const outside = `/tmp/nimbus-zip-escape-${process.pid}`;
  const cases: [string, string][] = [
    ["../evil", "escapes the package"],
    ["a/../../evil", "escapes the package"],
    ["a/../b", 'contains a ".." segment'],
    [outside, "is an absolute path"],
    ["..\\evil", 'contains a backslash (zip paths use "/")'],
    ["C:/evil", "starts with a drive letter"],
    ["evil\0.txt", "contains a NUL byte"],
  ];
  for (const [name, problem] of cases) {
    const zip = rawZip([
      { name: "ok.txt", data: "fine" },
      { name, data: "pwned" },
    ]);
    const message = `entry ${JSON.stringify(name)} ${problem}; entry names must be relative paths inside the package`;
    await expectRefused(zip, message);
  }
  assert.equal(existsSync(outside), false);
});

test("refuses symlinks whose target leaves the package", async () => {
  const cases: [string, string, string][] = [
    ["link", "/etc/passwd", "is an absolute path"],
    ["lib/link", "../../outside", "climbs out of the package"],
    ["lib/link", "sub/../../..", 'uses ".." after a name'],
  ];
  for (const [name, target, problem] of cases) {
    const zip = await yazlZip([
      { name: "ok.txt", data: "fine" },
      { name, data: target, mode: 0o120777 },
    ]);
    const message = `symlink "${name}" points to "${target}", which ${problem}; links must stay inside the package`;
    await expectRefused(zip, message);
  }
});

test("refuses an entry that would be written through a symlink or a file", async () => {
  const throughLink = await yazlZip([
    { name: "link", data: "dir", mode: 0o120777 },
    { name: "link/x.txt", data: "x" },
  ]);
  await expectRefused(
    throughLink,
    'entry "link/x.txt" is inside "link", which is a symlink, not a directory',
  );
  const throughFile = rawZip([
    { name: "a", data: "1" },
    { name: "a/b", data: "2" },
  ]);
  await expectRefused(throughFile, 'entry "a/b" is inside "a", which is a file, not a directory');
});

test("refuses duplicate entry names, however they are spelled", async () => {
  const same = rawZip([
    { name: "a.txt", data: "1" },
    { name: "a.txt", data: "2" },
  ]);
  await expectRefused(same, 'package has two entries named "a.txt"');
  const dotted = rawZip([
    { name: "lib/a.txt", data: "1" },
    { name: "./lib//a.txt", data: "2" },
  ]);
  await expectRefused(dotted, 'package has two entries named "lib/a.txt"');
});

test("refuses more entries than the limit", async () => {
  const zip = await yazlZip(["a", "b", "c", "d"].map((name) => ({ name, data: name })));
  await expectRefused(zip, "package has 4 entries, limit is 3", "InvalidParameter", { maxEntries: 3 });
});

test("refuses a package whose declared size is over the unzipped limit before writing", async () => {
  const zip = await yazlZip([{ name: "big.bin", data: Buffer.alloc(2 * MIB) }]);
  await expectRefused(zip, "package unzips to 2.0 MB, limit is 1 MB", "InvalidParameter", {
    maxUnzippedBytes: MIB,
  });
});

test("stops a zip bomb whose headers understate its size while inflating", async () => {
  const bomb = rawZip([
    { name: "ok.txt", data: "fine" },
    {
      name: "bomb.bin",
      method: 8,
      stored: zlib.deflateRawSync(Buffer.alloc(2 * MIB)),
      uncompressedSize: 1000,
    },
  ]);
  const message =
    'entry "bomb.bin" inflates to more than the 1000 bytes its header declares (corrupt archive or zip bomb)';
  await expectRefused(bomb, message, "InvalidZipFile", { maxUnzippedBytes: MIB });
});

test("stops a 10 GB bomb long before inflating it all", async () => {
  // Deflate segments of 1 MiB of zeros, each ending on a full flush, concatenate into one stream.
  const segment = zlib.deflateRawSync(Buffer.alloc(MIB), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const stream = Buffer.concat([...Array(10 * 1024).fill(segment), zlib.deflateRawSync(Buffer.alloc(0))]);
  // Declared above the size inflated in one call, so this goes through the streaming path.
  const bomb = rawZip([{ name: "bomb.bin", method: 8, stored: stream, uncompressedSize: 2 * MIB }]);
  const started = performance.now();
  await expectRefused(bomb, /^entry "bomb.bin" inflates to more than the 2.0 MB its header declares/);
  assert.ok(performance.now() - started < 2000, "inflating 10 GB would take many seconds");
});

test("refuses encrypted entries and unsupported compression methods", async () => {
  const encrypted = rawZip([{ name: "secret.txt", data: "x", flags: 0x1, stored: Buffer.alloc(13) }]);
  await expectRefused(encrypted, 'entry "secret.txt" is encrypted; upload a zip without a password');
  const lzma = rawZip([{ name: "a.txt", data: "x", method: 14 }]);
  const message = 'entry "a.txt" uses compression method 14; only stored (0) and deflate (8) are supported';
  await expectRefused(lzma, message);
});

test("empties an existing destination again when extraction fails", async () => {
  const dest = join(await sandbox(), "pkg");
  await mkdir(dest);
  const zip = rawZip([
    { name: "lib/ok.txt", data: "fine" },
    { name: "bad.txt", data: "hello", crc: 1 },
  ]);
  await assert.rejects(extractZip(zip, dest), NimbusError);
  assert.deepEqual(await readdir(dest), []);
});

test("refuses to extract into a directory that is not empty", async () => {
  const dest = await sandbox();
  await mkdir(join(dest, "old"));
  const zip = await yazlZip([{ name: "a.txt", data: "x" }]);
  await assert.rejects(extractZip(zip, dest), { message: `cannot extract into ${dest}: it is not empty` });
  assert.deepEqual(await readdir(dest), ["old"]);
});

test("extracts a 20 MB zip of 2,000 files in 20 directories, every byte in place", async () => {
  const files = Array.from({ length: 2000 }, (_, i) => ({
    name: `dir${i % 20}/file${i}.js`,
    data: randomBytes(10 * 1024),
  }));
  const zip = await yazlZip(files);
  assert.ok(zip.length > 19 * MIB);
  const dest = join(await sandbox(), "pkg");
  const summary = await extractZip(zip, dest);
  assert.deepEqual(summary, { entries: 2000, files: 2000, unzippedBytes: 2000 * 10 * 1024 });
  for (const i of [0, 999, 1999]) {
    const f = files[i]!;
    assert.deepEqual(await readFile(join(dest, f.name)), f.data);
  }
});
