/**
 * Access for apps, end to end: users of the platform's auth service, signed in with
 * `@supabase/auth-js`, reach objects with plain `fetch` and their access token as a bearer (no
 * SigV4), as far as the bucket's policy lets them; a public-read bucket is readable without
 * credentials; the operator's explain endpoint says why a request was denied; and the
 * platform's key (SigV4, presigned URLs) still does everything.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { FakeClock } from "../src/shared/clock.js";
import { authClient, authKeys, nimbusClient } from "./helpers/auth.js";
import { signAsOf } from "./helpers/clock-sync.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, s3Client, s3Failure } from "./helpers/s3.js";

const PASSWORD = "correct horse battery staple";
const BUCKET = "app-photos";

const clock = new FakeClock(Date.now());
let t: TestPlatform;
let s3: S3Client;
let alice: { id: string; token: string };
let bob: { id: string; token: string };

/** Each user reads and writes under users/<their id>/, lists only there, and editors write shared/. */
const POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "own-folder",
      Effect: "Allow",
      Principal: { Nimbus: ["authenticated"] },
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: [`arn:aws:s3:::${BUCKET}/users/\${auth.sub}/*`],
    },
    {
      Sid: "list-own-folder",
      Effect: "Allow",
      Principal: { Nimbus: ["authenticated"] },
      Action: "s3:ListBucket",
      Resource: `arn:aws:s3:::${BUCKET}`,
      Condition: { StringLike: { "s3:prefix": [`users/\${auth.sub}/*`] } },
    },
    {
      Sid: "editors",
      Effect: "Allow",
      Principal: { Nimbus: ["role:editor"] },
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: `arn:aws:s3:::${BUCKET}/shared/*`,
    },
  ],
};

async function signedIn(email: string, appMetadata: Record<string, unknown>) {
  const { serviceKey } = await authKeys(t, () => clock.now());
  const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
  const made = await admin.createUser({
    email,
    password: PASSWORD,
    email_confirm: true,
    app_metadata: appMetadata,
  });
  assert.equal(made.error, null);
  const { data, error } = await authClient(t).signInWithPassword({ email, password: PASSWORD });
  assert.equal(error, null);
  return { id: data.user?.id ?? "", token: data.session?.access_token ?? "" };
}

/** Plain fetch of an object path (`users/…/a.txt`), as a browser would, with a token or none. */
function request(method: string, path: string, token?: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
  return fetch(`${t.url}/s3/${BUCKET}/${path}`, { ...init, method, headers });
}

async function denied(res: Response | Promise<Response>, message = /^Access Denied$/): Promise<void> {
  const r = await res;
  const body = await r.text();
  assert.equal(r.status, 403, body);
  assert.match(body, /<Error><Code>AccessDenied<\/Code>/);
  assert.match(/<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? "", message);
}

async function explain(body: Record<string, unknown>) {
  const res = await nimbusClient(t, () => clock.now()).call("POST", "/nimbus/v1/policy/explain", {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return (await res.json()) as { operation: string; decision: string; reason: string; statement: unknown };
}

before(async () => {
  t = await startPlatform({ poolSize: 0 }, clock);
  s3 = signAsOf(s3Client(t), clock);
  alice = await signedIn("alice@example.com", {});
  bob = await signedIn("bob@example.com", { roles: ["editor"] });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(POLICY) }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

describe("users with their access token", () => {
  test("each user writes, reads, lists and deletes in their own folder, and is refused the other's", async () => {
    for (const u of [alice, bob]) {
      const put = await request("PUT", `users/${u.id}/note.txt`, u.token, { body: `from ${u.id}` });
      assert.equal(put.status, 200, await put.text());
      const got = await request("GET", `users/${u.id}/note.txt`, u.token);
      assert.equal(await got.text(), `from ${u.id}`);
      assert.equal((await request("HEAD", `users/${u.id}/note.txt`, u.token)).status, 200);
    }
    await denied(request("PUT", `users/${bob.id}/note.txt`, alice.token, { body: "overwrite" }));
    await denied(request("GET", `users/${alice.id}/note.txt`, bob.token));
    await denied(request("DELETE", `users/${alice.id}/note.txt`, bob.token));
    const head = await request("HEAD", `users/${alice.id}/note.txt`, bob.token);
    assert.equal(head.status, 403);
    // Bob's object is as he wrote it.
    const bobs = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `users/${bob.id}/note.txt` }));
    assert.equal((await bytesOf(bobs.Body)).toString(), `from ${bob.id}`);

    const list = (token: string, prefix?: string) =>
      fetch(
        `${t.url}/s3/${BUCKET}?list-type=2${prefix === undefined ? "" : `&prefix=${encodeURIComponent(prefix)}`}`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
    const listed = await list(alice.token, `users/${alice.id}/`);
    const xml = await listed.text();
    assert.equal(listed.status, 200, xml);
    assert.deepEqual(
      [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]),
      [`users/${alice.id}/note.txt`],
    );
    await denied(list(alice.token, `users/${bob.id}/`));
    await denied(list(alice.token));

    const deleted = await request("DELETE", `users/${alice.id}/note.txt`, alice.token);
    assert.equal(deleted.status, 204);
    assert.equal((await request("GET", `users/${alice.id}/note.txt`, alice.token)).status, 404);
  });

  test("a multipart upload in one's own folder: create, upload a part, complete", async () => {
    const key = `users/${alice.id}/big.bin`;
    const created = await request("POST", `${key}?uploads`, alice.token);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1] ?? "";
    assert.equal(created.status, 200);
    const part = await request(
      "PUT",
      `${key}?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`,
      alice.token,
      {
        body: "one part",
      },
    );
    assert.equal(part.status, 200);
    const etag = part.headers.get("etag") ?? "";
    // Bob can neither add a part to it nor complete it.
    await denied(
      request("PUT", `${key}?partNumber=2&uploadId=${encodeURIComponent(uploadId)}`, bob.token, {
        body: "x",
      }),
    );
    const done = await request("POST", `${key}?uploadId=${encodeURIComponent(uploadId)}`, alice.token, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
    });
    assert.equal(done.status, 200, await done.clone().text());
    assert.equal(await (await request("GET", key, alice.token)).text(), "one part");
    await denied(request("POST", `users/${bob.id}/big.bin?uploads`, alice.token));
  });

  test("a role from app_metadata, set by the operator, lets editors write shared/; a copy needs read and write", async () => {
    const wrote = await request("PUT", "shared/board.txt", bob.token, { body: "by an editor" });
    assert.equal(wrote.status, 200);
    await denied(request("PUT", "shared/board.txt", alice.token, { body: "not an editor" }));
    await denied(request("GET", "shared/board.txt", alice.token));

    await request("PUT", `users/${alice.id}/mine.txt`, alice.token, { body: "alice's" });
    await request("PUT", `users/${bob.id}/mine.txt`, bob.token, { body: "bob's" });
    const copy = (token: string, from: string, to: string) =>
      request("PUT", to, token, { headers: { "x-amz-copy-source": `${BUCKET}/${from}` } });
    // Alice may read her file but not write shared/; Bob may write shared/ but not read Alice's file.
    await denied(copy(alice.token, `users/${alice.id}/mine.txt`, "shared/from-alice.txt"));
    await denied(copy(bob.token, `users/${alice.id}/mine.txt`, "shared/from-alice.txt"));
    const copied = await copy(bob.token, `users/${bob.id}/mine.txt`, "shared/from-bob.txt");
    assert.equal(copied.status, 200, await copied.clone().text());
    assert.equal(await (await request("GET", "shared/from-bob.txt", bob.token)).text(), "bob's");
  });

  test("a user cannot change the bucket: its policy and ACL are the operator's", async () => {
    await denied(request("GET", "?policy", alice.token));
    await denied(
      fetch(`${t.url}/s3/${BUCKET}?acl`, {
        method: "PUT",
        headers: { authorization: `Bearer ${bob.token}`, "x-amz-acl": "public-read" },
      }),
    );
  });

  test("a tampered token is refused, saying the token is the problem", async () => {
    const [header, payload, signature] = alice.token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: bob.id })).toString("base64url");
    await denied(
      request("GET", `users/${bob.id}/note.txt`, `${header}.${forged}.${signature}`),
      /bearer token is not a valid/,
    );
    await denied(request("GET", `users/${alice.id}/mine.txt`, "not-a-jwt"), /bearer token is not a valid/);
  });
});

describe("public-read buckets and anonymous callers", () => {
  test("an anonymous GET is refused until the bucket is public-read, then allowed; a PUT never", async () => {
    const key = `users/${alice.id}/public.txt`;
    assert.equal((await request("PUT", key, alice.token, { body: "for everyone" })).status, 200);
    await denied(request("GET", key));
    const status = () => s3.send(new GetBucketPolicyStatusCommand({ Bucket: BUCKET }));
    assert.equal((await status()).PolicyStatus?.IsPublic, false);

    await s3.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: "public-read" }));
    const got = await request("GET", key);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), "for everyone");
    assert.equal((await request("HEAD", key)).status, 200);
    assert.equal((await status()).PolicyStatus?.IsPublic, true);
    await denied(request("PUT", "anonymous.txt", undefined, { body: "x" }));
    await denied(request("DELETE", key));
    await denied(fetch(`${t.url}/s3/${BUCKET}?list-type=2`));
    // Public means everyone: a signed-in user reads what their policy alone would not give them.
    assert.equal((await request("GET", key, bob.token)).status, 200);

    await s3.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: "private" }));
    await denied(request("GET", key));
    const refused = await s3Failure(
      s3.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: "public-read-write" })),
    );
    assert.deepEqual([refused.name, refused.status], ["NotImplemented", 501]);
  });

  test("a policy may open a prefix to everyone with Principal *", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "app-open" }));
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: "app-open",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: "*",
              Action: "s3:GetObject",
              Resource: "arn:aws:s3:::app-open/public/*",
            },
          ],
        }),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: "app-open", Key: "public/a.txt", Body: "open" }));
    await s3.send(new PutObjectCommand({ Bucket: "app-open", Key: "private/a.txt", Body: "closed" }));
    assert.equal(await (await fetch(`${t.url}/s3/app-open/public/a.txt`)).text(), "open");
    await denied(fetch(`${t.url}/s3/app-open/private/a.txt`));
    // A missing bucket is refused the same way: names of buckets are not disclosed.
    await denied(fetch(`${t.url}/s3/no-such-bucket-here/a.txt`));
  });
});

describe("the operator", () => {
  test("the explain endpoint says why a request is denied, or allowed", async () => {
    const other = await explain({
      bucket: BUCKET,
      method: "PUT",
      key: `users/${bob.id}/x.png`,
      token: alice.token,
    });
    assert.deepEqual(other, {
      operation: "PutObject",
      decision: "deny",
      reason: `no statement allows s3:PutObject on arn:aws:s3:::${BUCKET}/users/${bob.id}/x.png for user ${alice.id} (statement "own-folder" allows only arn:aws:s3:::${BUCKET}/users/${alice.id}/*)`,
      statement: null,
    });
    const own = await explain({
      bucket: BUCKET,
      method: "PUT",
      key: `users/${alice.id}/x.png`,
      token: alice.token,
    });
    assert.deepEqual([own.decision, own.statement], ["allow", "own-folder"]);
    const listing = await explain({
      bucket: BUCKET,
      method: "GET",
      prefix: `users/${bob.id}/`,
      token: alice.token,
    });
    assert.equal(listing.operation, "ListObjectsV2");
    assert.match(
      listing.reason,
      /StringLike s3:prefix \[".*users\/[^/]+\/\*"\], which does not hold: s3:prefix is "users\//,
    );
    const anonymous = await explain({ bucket: BUCKET, method: "GET", key: "shared/board.txt" });
    assert.match(
      anonymous.reason,
      /for an anonymous caller \(statement "own-folder" is only for authenticated; /,
    );
    const forged = await explain({ bucket: BUCKET, method: "GET", key: "a", token: "not-a-jwt" });
    assert.equal(forged.decision, "deny");
    assert.match(forged.reason, /bearer token is not a valid access token/);
    const bucketOnly = await explain({ bucket: BUCKET, method: "DELETE", token: bob.token });
    assert.match(bucketOnly.reason, /^DeleteBucket is the operator's only/);
    await assert.rejects(
      explain({ bucket: BUCKET, method: "PATCH" }),
      /method must be one of GET, HEAD, PUT, POST, DELETE/,
    );
  });

  test("the explain endpoint decides a DeleteObjects' keys one by one, as the S3 surface does", async () => {
    const many = (await explain({
      bucket: BUCKET,
      method: "POST",
      keys: [
        `users/${alice.id}/a.png`,
        { key: `users/${bob.id}/b.png` },
        { key: `users/${alice.id}/c.png`, versionId: "v1" },
      ],
      token: alice.token,
    })) as Awaited<ReturnType<typeof explain>> & {
      keys: { key: string; versionId?: string; decision: string; reason: string; statement: unknown }[];
    };
    assert.equal(many.operation, "DeleteObjects");
    assert.equal(many.decision, "allow");
    assert.deepEqual(
      many.keys.map((k) => [k.key, k.versionId, k.decision]),
      [
        [`users/${alice.id}/a.png`, undefined, "allow"],
        [`users/${bob.id}/b.png`, undefined, "deny"],
        [`users/${alice.id}/c.png`, "v1", "deny"], // "own-folder" grants s3:DeleteObject only
      ],
    );
    assert.equal(many.keys[0]!.statement, "own-folder");
    assert.match(
      many.keys[1]!.reason,
      /^no statement allows s3:DeleteObject on arn:aws:s3:::[^ ]+\/users\/[^/]+\/b\.png for user /,
    );
    assert.match(many.keys[2]!.reason, /s3:DeleteObjectVersion/);
    await assert.rejects(
      explain({ bucket: BUCKET, method: "DELETE", keys: ["a"] }),
      /keys name a DeleteObjects: a POST to the bucket, without key/,
    );
    await assert.rejects(
      explain({ bucket: BUCKET, method: "POST", keys: [] }),
      /keys must be a list of 1 to 1000/,
    );
    await assert.rejects(
      explain({ bucket: BUCKET, method: "POST", keys: [{ key: "a", extra: 1 }] }),
      /keys\[0\] must be a key or/,
    );
    await assert.rejects(explain({ bucket: BUCKET, method: "POST" }), /name the key the form writes/);
  });

  test("the platform's key still does everything, and a policy is checked before it is stored", async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.ok((listed.Contents ?? []).some((o) => o.Key === "shared/board.txt"));
    const stored = await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
    assert.deepEqual(JSON.parse(stored.Policy ?? ""), POLICY);

    const bad = await s3Failure(
      s3.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "x",
                Effect: "allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: "arn:aws:s3:::elsewhere/*",
              },
            ],
          }),
        }),
      ),
    );
    assert.deepEqual([bad.name, bad.status], ["MalformedPolicy", 400]);
    assert.match(
      bad.message,
      /The policy has 2 problems: Statement\[0\] \("x"\)\.Effect: .*; Statement\[0\] \("x"\)\.Resource: "arn:aws:s3:::elsewhere\/\*" is not in bucket app-photos/,
    );

    // A function holding the key hands a browser a presigned PUT: the URL is its credential.
    const url = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: BUCKET, Key: "uploads/from-browser.txt" }),
      {
        expiresIn: 300,
        signingDate: new Date(clock.now()),
      },
    );
    const put = await fetch(url, { method: "PUT", body: "uploaded" });
    assert.equal(put.status, 200, await put.clone().text());
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "uploads/from-browser.txt" }));
    assert.equal((await bytesOf(got.Body)).toString(), "uploaded");

    await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    const none = await s3Failure(s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET })));
    assert.deepEqual([none.name, none.status], ["NoSuchBucketPolicy", 404]);
    // Without a policy, users are refused what it gave them.
    await denied(request("GET", `users/${alice.id}/mine.txt`, alice.token));
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(POLICY) }));
  });

  test("an expired token is refused (last: the platform's clock moves past its hour)", async () => {
    assert.equal((await request("GET", `users/${alice.id}/mine.txt`, alice.token)).status, 200);
    clock.advance(3601 * 1000);
    await denied(
      request("GET", `users/${alice.id}/mine.txt`, alice.token),
      /bearer token is not a valid.*exp/,
    );
  });
});
