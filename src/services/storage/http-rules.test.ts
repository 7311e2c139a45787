import assert from "node:assert/strict";
import { test } from "node:test";
import type { S3Error } from "./errors.js";
import { evaluateConditions, parseRange } from "./http-rules.js";

test("a byte range is read in its three forms and clipped to the object", () => {
  assert.deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange("bytes=90-", 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-500", 100), { start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=50-5000", 100), { start: 50, end: 99 });
});

test("a range S3 does not read serves the whole object; one past the end is 416", () => {
  assert.equal(parseRange(undefined, 100), undefined);
  assert.equal(parseRange("bytes=0-1,5-6", 100), undefined);
  assert.equal(parseRange("items=0-1", 100), undefined);
  assert.equal(parseRange("bytes=9-2", 100), undefined);
  assert.throws(
    () => parseRange("bytes=100-", 100),
    (e: S3Error) => e.code === "InvalidRange" && e.status === 416,
  );
  assert.throws(
    () => parseRange("bytes=0-0", 0),
    (e: S3Error) => e.code === "InvalidRange",
  );
});

test("conditions: If-Match and If-Unmodified-Since fail with 412, If-None-Match and If-Modified-Since give 304", () => {
  const etag = '"abc"';
  const at = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
  assert.equal(evaluateConditions({ ifMatch: '"abc"' }, etag, at), "ok");
  assert.equal(evaluateConditions({ ifMatch: "*" }, etag, at), "ok");
  assert.throws(
    () => evaluateConditions({ ifMatch: '"zzz"' }, etag, at),
    (e: S3Error) => e.status === 412,
  );
  assert.equal(evaluateConditions({ ifNoneMatch: '"abc"' }, etag, at), "not-modified");
  assert.equal(evaluateConditions({ ifNoneMatch: '"x", "abc"' }, etag, at), "not-modified");
  assert.equal(evaluateConditions({ ifModifiedSince: new Date(at).toUTCString() }, etag, at), "not-modified");
  assert.equal(evaluateConditions({ ifModifiedSince: new Date(at - 2000).toUTCString() }, etag, at), "ok");
  assert.throws(
    () => evaluateConditions({ ifUnmodifiedSince: new Date(at - 2000).toUTCString() }, etag, at),
    (e: S3Error) => e.code === "PreconditionFailed",
  );
  // If-Match wins over If-Unmodified-Since, If-None-Match over If-Modified-Since (RFC 9110 §13.2.2).
  assert.equal(
    evaluateConditions({ ifMatch: '"abc"', ifUnmodifiedSince: new Date(0).toUTCString() }, etag, at),
    "ok",
  );
  assert.equal(
    evaluateConditions({ ifNoneMatch: '"x"', ifModifiedSince: new Date(at).toUTCString() }, etag, at),
    "ok",
  );
});
