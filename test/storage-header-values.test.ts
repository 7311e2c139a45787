/**
 * End to end: what an object stores as headers must go back out as headers. A PUT's headers
 * always can, but a browser form's fields (S3's POST Object) and a GET's `response-*`
 * parameters can hold line breaks, control characters or characters past U+00FF. Stored, such a
 * field made every GET and HEAD of the object fail with a 500; now the upload is refused with
 * InvalidArgument and stores nothing, and a GET with such a parameter is refused the same way.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, errorCodeOf, s3Client, s3Failure } from "./helpers/s3.js";

const BUCKET = "header-values";

let t: TestPlatform;
let s3: S3Client;
before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

/** A browser's form upload of "hello" to `key` with `fields`, signed by createPresignedPost. */
async function upload(key: string, fields: Record<string, string>): Promise<Response> {
  const signed = await createPresignedPost(s3, { Bucket: BUCKET, Key: key, Fields: fields, Expires: 300 });
  const form = new FormData();
  for (const [name, value] of Object.entries(signed.fields)) form.append(name, value);
  form.append("file", new Blob(["hello"]), "hello.txt");
  return fetch(signed.url, { method: "POST", body: form });
}

describe("a form's fields stored as headers", () => {
  for (const [key, fields, argument] of [
    ["snowman-meta.txt", { "x-amz-meta-name": "☃" }, "x-amz-meta-name"],
    ["split-meta.txt", { "x-amz-meta-name": "a\r\nx-injected: 1" }, "x-amz-meta-name"],
    ["snowman-type.txt", { "Content-Type": "text/☃" }, "content-type"],
    ["bell-disposition.txt", { "Content-Disposition": "attachment\u0007" }, "content-disposition"],
  ] as const)
    test(`${argument} that no header can carry is InvalidArgument, and nothing is stored (${key})`, async () => {
      const res = await upload(key, fields);
      const xml = await res.text();
      assert.equal(res.status, 400, xml);
      assert.equal(errorCodeOf(xml), "InvalidArgument");
      assert.match(xml, new RegExp(`<ArgumentName>${argument}</ArgumentName>`));
      assert.match(xml, /must be a value an HTTP header can carry/);
      const head = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })));
      assert.equal(head.name, "NotFound");
    });

  test("Latin-1 characters are stored and read back, as a PUT's headers would be", async () => {
    const res = await upload("latin1.txt", {
      "x-amz-meta-city": "Zürich",
      "Content-Disposition": 'attachment; filename="ö.txt"',
    });
    assert.equal(res.status, 204, await res.text());
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "latin1.txt" }));
    assert.equal(got.Metadata?.city, "Zürich");
    assert.equal(got.ContentDisposition, 'attachment; filename="ö.txt"');
    assert.equal(Buffer.from(await bytesOf(got.Body)).toString(), "hello");
  });
});

describe("a GET's response-* parameters", () => {
  test("one that no header can carry is InvalidArgument; a good one still replaces its header", async () => {
    const res = await upload("plain.txt", {});
    assert.equal(res.status, 204);
    for (const bad of ["a\r\nx-injected: 1", "text/☃"]) {
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: BUCKET, Key: "plain.txt", ResponseContentType: bad }),
        { expiresIn: 60 },
      );
      const got = await fetch(url);
      const xml = await got.text();
      assert.equal(got.status, 400, xml);
      assert.equal(errorCodeOf(xml), "InvalidArgument");
      assert.match(xml, /<ArgumentName>response-content-type<\/ArgumentName>/);
      assert.equal(got.headers.get("x-injected"), null);
    }
    const good = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: "plain.txt", ResponseContentType: "text/x-greeting" }),
    );
    assert.equal(good.ContentType, "text/x-greeting");
  });
});
