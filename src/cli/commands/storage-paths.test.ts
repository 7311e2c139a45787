import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../usage-error.js";
import {
  contentTypeOf,
  directoryPrefix,
  downloadPath,
  localPathUnder,
  objectPath,
  parseS3Url,
  queryString,
  uploadKey,
} from "./storage-paths.js";

test("s3:// URLs name a bucket and a key, which may be empty", () => {
  assert.deepEqual(parseS3Url("s3://photos/2026/cat.jpg"), { bucket: "photos", key: "2026/cat.jpg" });
  assert.deepEqual(parseS3Url("s3://photos"), { bucket: "photos", key: "" });
  assert.deepEqual(parseS3Url("s3://photos/"), { bucket: "photos", key: "" });
  assert.deepEqual(parseS3Url("s3://photos/a//b "), { bucket: "photos", key: "a//b " });
});

test("ls also takes bucket/prefix without the scheme; everything else needs it and a bucket", () => {
  assert.deepEqual(parseS3Url("photos/2026/", true), { bucket: "photos", key: "2026/" });
  assert.throws(() => parseS3Url("photos/cat.jpg"), UsageError);
  assert.throws(() => parseS3Url("s3:///cat.jpg"), /names no bucket/);
  assert.throws(() => parseS3Url("", true), /names no bucket/);
});

test("a key is percent-encoded once in the path, its slashes kept, as S3 signs it", () => {
  assert.equal(objectPath("photos"), "/photos");
  assert.equal(objectPath("photos", "2026/a b+c!(1)*.jpg"), "/photos/2026/a%20b%2Bc%21%281%29%2A.jpg");
  assert.equal(objectPath("photos", "ünï/~x_y-z."), "/photos/%C3%BCn%C3%AF/~x_y-z.");
  assert.equal(objectPath("photos", "a//b/"), "/photos/a//b/");
  assert.equal(
    queryString({ "list-type": "2", prefix: "a b/c", delete: "" }),
    "list-type=2&prefix=a%20b%2Fc&delete=",
  );
});

test("a recursive operation on a prefix covers it as a directory", () => {
  assert.equal(directoryPrefix(""), "");
  assert.equal(directoryPrefix("dir"), "dir/");
  assert.equal(directoryPrefix("dir/"), "dir/");
});

test("an upload to a key ending in / (or to the bucket) takes the file's name", () => {
  assert.equal(uploadKey({ bucket: "b", key: "2026/cat.jpg" }, "./x.jpg"), "2026/cat.jpg");
  assert.equal(uploadKey({ bucket: "b", key: "2026/" }, "./photos/x.jpg"), "2026/x.jpg");
  assert.equal(uploadKey({ bucket: "b", key: "" }, "x.jpg"), "x.jpg");
  assert.throws(
    () => uploadKey({ bucket: "b", key: "dir/" }, "-"),
    /standard input needs s3:\/\/BUCKET\/KEY/,
  );
});

test("a download into a directory takes the key's last segment", () => {
  assert.equal(downloadPath("out.jpg", "2026/cat.jpg", false), "out.jpg");
  assert.equal(downloadPath("downloads", "2026/cat.jpg", true), join("downloads", "cat.jpg"));
  assert.equal(downloadPath("new/", "2026/cat.jpg", false), join("new", "cat.jpg"));
  assert.throws(() => downloadPath("downloads", "2026/..", true), /no file name/);
});

test("a recursive download keeps every key inside its directory", () => {
  assert.equal(localPathUnder("out", "dir/", "dir/a/b.txt"), join("out", "a", "b.txt"));
  assert.equal(localPathUnder("out", "dir/", "dir/a/../b.txt"), join("out", "b.txt"));
  assert.equal(localPathUnder("out", "dir/", "dir/sub/"), undefined, "a directory marker");
  assert.equal(localPathUnder("out", "dir/", "dir/../../etc/passwd"), undefined);
  assert.equal(localPathUnder("out", "", "/etc/passwd"), join("out", "etc", "passwd"));
  assert.equal(localPathUnder("out", "", ".."), undefined);
});

test("the content type is guessed from a few common extensions, in any case", () => {
  assert.equal(contentTypeOf("index.HTML"), "text/html; charset=utf-8");
  assert.equal(contentTypeOf("2026/cat.jpeg"), "image/jpeg");
  assert.equal(contentTypeOf("data.json"), "application/json");
  assert.equal(contentTypeOf("archive.tar.gz"), "application/gzip");
  assert.equal(contentTypeOf("blob.bin"), undefined);
  assert.equal(contentTypeOf("Makefile"), undefined);
});
