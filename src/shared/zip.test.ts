import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import zlib from "node:zlib";
import yazl from "yazl";
import { NimbusError } from "./errors.js";
import { type ZipLimits, extractZip, inspectZip } from "./zip.js";

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

function yazlZip(files: YazlFile[], compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const f of files) {
    if (f.dir) zip.addEmptyDirectory(f.name);
    else zip.addBuffer(Buffer.from(f.data ?? ""), f.name, { compress, ...(f.mode ? { mode: f.mode } : {}) });
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
  data?: Buffer;
  method?: number;
  /** Bytes stored in the archive; defaults to data, deflated when method is 8. */
  stored?: Buffer;
  uncompressedSize?: number;
  crc?: number;
  flags?: number;
  madeBy?: number;
  external?: number;
}

/** Local headers, central directory and end record by hand, for what yazl refuses to write. */
function rawZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const data = e.data ?? Buffer.alloc(0);
    const method = e.method ?? 0;
    const stored = e.stored ?? (method === 8 ? zlib.deflateRawSync(data) : data);
    const crc = e.crc ?? zlib.crc32(data);
    const size = e.uncompressedSize ?? data.length;
    const flags = (e.flags ?? 0) | 0x800; // UTF-8 names
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.madeBy ?? 0x0314, 4); // Unix, zip 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(e.external ?? (0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += 30 + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Both entry points refuse the zip with this error, and extraction leaves nothing behind. */
async function expectRefused(
  zip: Buffer,
  code: string,
  message: string | RegExp,
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
  const zip = rawZip([{ name: "index.js", data: Buffer.from("x"), madeBy: 0x0014, external: 0x20 }]);
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
  await expectRefused(Buffer.alloc(61 * MIB), "RequestTooLarge", "package is 61.0 MB, limit is 50 MB");
});

test("refuses bytes that are not a zip archive, or a truncated one", async () => {
  await expectRefused(
    Buffer.from("definitely not a zip"),
    "InvalidZipFile",
    "package is not a valid zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.",
  );
  const zip = await yazlZip([{ name: "a.txt", data: "hello" }]);
  await expectRefused(
    zip.subarray(0, zip.length - 10),
    "InvalidZipFile",
    /^package is not a valid zip archive: /,
  );
});

test("refuses entries whose data is corrupt", async () => {
  const badCrc = rawZip([{ name: "a.txt", data: Buffer.from("hello"), crc: 1234 }]);
  await expectRefused(badCrc, "InvalidZipFile", 'entry "a.txt" is corrupt: its CRC-32 does not match');
  const garbage = rawZip([
    { name: "a.txt", data: Buffer.from("hello"), method: 8, stored: Buffer.from([0xff, 0xff, 0xff]) },
  ]);
  await expectRefused(
    garbage,
    "InvalidZipFile",
    /^package is not a valid zip archive: entry "a.txt": invalid block type$/,
  );
  const short = rawZip([{ name: "a.txt", data: Buffer.from("hello"), uncompressedSize: 9 }]);
  await expectRefused(short, "InvalidZipFile", 'entry "a.txt" is truncated: 5 of 9 bytes');
});

test("refuses a zip with no files", async () => {
  await expectRefused(await yazlZip([]), "InvalidZipFile", "package contains no files");
  await expectRefused(
    await yazlZip([{ name: "only-a-dir/", dir: true }]),
    "InvalidZipFile",
    "package contains no files",
  );
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
      { name: "ok.txt", data: Buffer.from("fine") },
      { name, data: Buffer.from("pwned") },
    ]);
    const message = `entry ${JSON.stringify(name)} ${problem}; entry names must be relative paths inside the package`;
    await expectRefused(zip, "InvalidZipFile", message);
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
    await expectRefused(zip, "InvalidZipFile", message);
  }
});

test("refuses an entry that would be written through a symlink or a file", async () => {
  const throughLink = await yazlZip([
    { name: "link", data: "dir", mode: 0o120777 },
    { name: "link/x.txt", data: "x" },
  ]);
  await expectRefused(
    throughLink,
    "InvalidZipFile",
    'entry "link/x.txt" is inside "link", which is a symlink, not a directory',
  );
  const throughFile = rawZip([
    { name: "a", data: Buffer.from("1") },
    { name: "a/b", data: Buffer.from("2") },
  ]);
  await expectRefused(
    throughFile,
    "InvalidZipFile",
    'entry "a/b" is inside "a", which is a file, not a directory',
  );
});

test("refuses duplicate entry names, however they are spelled", async () => {
  const same = rawZip([
    { name: "a.txt", data: Buffer.from("1") },
    { name: "a.txt", data: Buffer.from("2") },
  ]);
  await expectRefused(same, "InvalidZipFile", 'package has two entries named "a.txt"');
  const dotted = rawZip([
    { name: "lib/a.txt", data: Buffer.from("1") },
    { name: "./lib//a.txt", data: Buffer.from("2") },
  ]);
  await expectRefused(dotted, "InvalidZipFile", 'package has two entries named "lib/a.txt"');
});

test("refuses more entries than the limit", async () => {
  const zip = await yazlZip(["a", "b", "c", "d"].map((name) => ({ name, data: name })));
  await expectRefused(zip, "InvalidParameter", "package has 4 entries, limit is 3", { maxEntries: 3 });
});

test("refuses a package whose declared size is over the unzipped limit before writing", async () => {
  const zip = await yazlZip([{ name: "big.bin", data: Buffer.alloc(2 * MIB) }]);
  await expectRefused(zip, "InvalidParameter", "package unzips to 2.0 MB, limit is 1 MB", {
    maxUnzippedBytes: MIB,
  });
});

test("stops a zip bomb whose headers understate its size while inflating", async () => {
  const bomb = rawZip([
    { name: "ok.txt", data: Buffer.from("fine") },
    {
      name: "bomb.bin",
      method: 8,
      stored: zlib.deflateRawSync(Buffer.alloc(2 * MIB)),
      uncompressedSize: 1000,
    },
  ]);
  const message =
    'entry "bomb.bin" inflates to more than the 1000 bytes its header declares (corrupt archive or zip bomb)';
  await expectRefused(bomb, "InvalidZipFile", message, { maxUnzippedBytes: MIB });
});

test("stops a 10 GB bomb long before inflating it all", async () => {
  // Deflate segments of 1 MiB of zeros, each ending on a full flush, concatenate into one stream.
  const segment = zlib.deflateRawSync(Buffer.alloc(MIB), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const stream = Buffer.concat([...Array(10 * 1024).fill(segment), zlib.deflateRawSync(Buffer.alloc(0))]);
  // Declared above the size inflated in one call, so this goes through the streaming path.
  const bomb = rawZip([{ name: "bomb.bin", method: 8, stored: stream, uncompressedSize: 2 * MIB }]);
  const started = performance.now();
  await expectRefused(
    bomb,
    "InvalidZipFile",
    /^entry "bomb.bin" inflates to more than the 2.0 MB its header declares/,
  );
  assert.ok(performance.now() - started < 2000, "inflating 10 GB would take many seconds");
});

test("refuses encrypted entries and unsupported compression methods", async () => {
  const encrypted = rawZip([
    { name: "secret.txt", data: Buffer.from("x"), flags: 0x1, stored: Buffer.alloc(13) },
  ]);
  await expectRefused(
    encrypted,
    "InvalidZipFile",
    'entry "secret.txt" is encrypted; upload a zip without a password',
  );
  const lzma = rawZip([{ name: "a.txt", data: Buffer.from("x"), method: 14 }]);
  const message =
    'entry "a.txt" uses compression method 14 (LZMA); only stored (0) and deflate (8) are supported';
  await expectRefused(lzma, "InvalidZipFile", message);
});

test("empties an existing destination again when extraction fails", async () => {
  const dest = join(await sandbox(), "pkg");
  await mkdir(dest);
  const zip = rawZip([
    { name: "lib/ok.txt", data: Buffer.from("fine") },
    { name: "bad.txt", data: Buffer.from("hello"), crc: 1 },
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

test("extracts a 20 MB zip of 2,000 files in well under a second", async () => {
  const files = Array.from({ length: 2000 }, (_, i) => ({
    name: `dir${i % 20}/file${i}.js`,
    data: randomBytes(10 * 1024),
  }));
  const zip = await yazlZip(files);
  assert.ok(zip.length > 19 * MIB);
  const dest = join(await sandbox(), "pkg");
  const started = performance.now();
  const summary = await extractZip(zip, dest);
  const elapsed = performance.now() - started;
  assert.equal(summary.files, 2000);
  assert.equal(summary.unzippedBytes, 2000 * 10 * 1024);
  assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
});
