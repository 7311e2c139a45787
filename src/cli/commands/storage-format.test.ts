import assert from "node:assert/strict";
import { test } from "node:test";
import { bucketsTable, lsLines } from "./storage-format.js";
import type { ObjectEntry } from "./storage-ops.js";

const object = (Key: string, Size: number): ObjectEntry => ({
  Key,
  Size,
  LastModified: "2026-12-06T21:15:58.123Z",
  ETag: '"x"',
  StorageClass: "STANDARD",
});

test("ls prints common prefixes as PRE, then objects with time, size and name, as aws s3 ls does", () => {
  const page = { prefixes: ["photos/2026/raw/"], contents: [object("photos/2026/cat.jpg", 12345)] };
  assert.equal(
    lsLines(page, "photos/2026/", false),
    "                           PRE raw/\n" + "2026-12-06 21:15:58      12345 cat.jpg\n",
  );
  assert.equal(
    lsLines(page, "photos/20", false),
    "                           PRE 2026/raw/\n" + "2026-12-06 21:15:58      12345 2026/cat.jpg\n",
    "a prefix that is not a directory is cut at its last /",
  );
});

test("ls --recursive prints whole keys", () => {
  const page = { prefixes: [], contents: [object("a/b/c.txt", 0), object("d.txt", 1_234_567_890)] };
  assert.equal(
    lsLines(page, "a/", true),
    "2026-12-06 21:15:58          0 a/b/c.txt\n" + "2026-12-06 21:15:58 1234567890 d.txt\n",
  );
  assert.equal(lsLines({ prefixes: [], contents: [] }, "", true), "");
});

test("buckets show their name and creation time", () => {
  assert.equal(
    bucketsTable([{ Name: "photos", CreationDate: "2026-12-06T21:15:58.000Z" }]),
    "NAME    CREATED\n" + "photos  2026-12-06 21:15:58\n",
  );
});
