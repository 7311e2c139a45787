/**
 * DeleteObjects for callers other than the operator, end to end: the request is admitted and
 * each key is decided on its own against s3:DeleteObject, a denied key answered in the result
 * as S3's AccessDenied while the others are deleted; the operator deletes anything as before.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { deleteKeyAccess } from "../src/gateway/surfaces/s3/access.js";
import { parseCall } from "../src/gateway/surfaces/s3/request.js";
import { silentLogger } from "../src/shared/logger.js";
import { authClient, authKeys } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { s3Client } from "./helpers/s3.js";

const PASSWORD = "correct horse battery staple";
const BUCKET = "app-deletes";

/** Each user deletes (and writes) under users/<their id>/ only. */
const POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "own-folder",
      Effect: "Allow",
      Principal: { Nimbus: ["authenticated"] },
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: `arn:aws:s3:::${BUCKET}/users/\${auth.sub}/*`,
    },
  ],
};

let t: TestPlatform;
let s3: S3Client;
let alice: { id: string; token: string };
let bob: { id: string; token: string };

async function signedIn(email: string) {
  const { serviceKey } = await authKeys(t);
  const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
  const made = await admin.createUser({ email, password: PASSWORD, email_confirm: true });
  assert.equal(made.error, null);
  const { data, error } = await authClient(t).signInWithPassword({ email, password: PASSWORD });
  assert.equal(error, null);
  return { id: data.user?.id ?? "", token: data.session?.access_token ?? "" };
}

async function put(...keys: string[]): Promise<void> {
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
}

async function keys(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? "");
}

/** DeleteObjects as a browser sends it with fetch: the XML body, its Content-MD5, a token or none. */
async function deleteObjects(
  names: readonly string[],
  o: { token?: string; quiet?: boolean; bucket?: string } = {},
): Promise<{ status: number; deleted: string[]; errors: string[][]; body: string }> {
  const xml =
    `<Delete>${o.quiet ? "<Quiet>true</Quiet>" : ""}` +
    names.map((k) => `<Object><Key>${k}</Key></Object>`).join("") +
    "</Delete>";
  const headers: Record<string, string> = {
    "content-md5": createHash("md5").update(xml).digest("base64"),
    "content-type": "application/xml",
  };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  const res = await fetch(`${t.url}/s3/${o.bucket ?? BUCKET}?delete`, { method: "POST", headers, body: xml });
  const body = await res.text();
  return {
    status: res.status,
    body,
    deleted: [...body.matchAll(/<Deleted><Key>([^<]*)<\/Key>/g)].map((m) => m[1] ?? ""),
    errors: [
      ...body.matchAll(
        /<Error><Key>([^<]*)<\/Key><Code>([^<]*)<\/Code><Message>([^<]*)<\/Message><\/Error>/g,
      ),
    ].map((m) => [m[1] ?? "", m[2] ?? "", m[3] ?? ""]),
  };
}

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  alice = await signedIn("alice@example.com");
  bob = await signedIn("bob@example.com");
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(POLICY) }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

describe("DeleteObjects held to the bucket's policy", () => {
  test("a user deletes his own keys and is denied another's, in one request", async () => {
    const own = [`users/${alice.id}/a.txt`, `users/${alice.id}/b.txt`];
    const others = `users/${bob.id}/c.txt`;
    await put(...own, others);
    const r = await deleteObjects([own[0] ?? "", others, own[1] ?? ""], { token: alice.token });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.deleted, own);
    assert.deepEqual(r.errors, [[others, "AccessDenied", "Access Denied"]]);
    assert.deepEqual(await keys(`users/${alice.id}/`), []);
    assert.deepEqual(await keys(`users/${bob.id}/`), [others], "bob's key is still there");

    // Quiet mode leaves out what was deleted, never what was denied.
    await put(`users/${bob.id}/d.txt`);
    const quiet = await deleteObjects([others, `users/${bob.id}/d.txt`], { token: bob.token, quiet: true });
    assert.equal(quiet.status, 200, quiet.body);
    assert.deepEqual([quiet.deleted, quiet.errors], [[], []]);
    await put(`users/${alice.id}/e.txt`);
    const denied = await deleteObjects([`users/${alice.id}/e.txt`], { token: bob.token, quiet: true });
    assert.deepEqual(denied.errors, [[`users/${alice.id}/e.txt`, "AccessDenied", "Access Denied"]]);
    assert.deepEqual(await keys(`users/${alice.id}/`), [`users/${alice.id}/e.txt`]);
  });

  test("an anonymous caller has every key denied; a bucket that does not exist is refused whole", async () => {
    const names = [`users/${alice.id}/e.txt`, "public/x.txt"];
    await put("public/x.txt");
    const r = await deleteObjects(names);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.deleted, []);
    assert.deepEqual(
      r.errors,
      names.map((k) => [k, "AccessDenied", "Access Denied"]),
    );
    assert.deepEqual(await keys("public/"), ["public/x.txt"]);
    const missing = await deleteObjects(["a"], { bucket: "no-such-bucket-here" });
    assert.equal(missing.status, 403, missing.body);
    assert.match(missing.body, /<Code>AccessDenied<\/Code>/);
  });

  test("the operator deletes every key, whatever the policy", async () => {
    await put(`users/${alice.id}/f.txt`, `users/${bob.id}/g.txt`, "elsewhere/h.txt");
    const names = [
      `users/${alice.id}/e.txt`,
      `users/${alice.id}/f.txt`,
      `users/${bob.id}/g.txt`,
      "elsewhere/h.txt",
    ];
    const r = await s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: names.map((Key) => ({ Key })) } }),
    );
    assert.deepEqual(r.Deleted?.map((d) => d.Key).sort(), [...names].sort());
    assert.equal(r.Errors, undefined);
    assert.deepEqual(await keys("elsewhere/"), []);
  });

  test("each denied key is logged with its reason, as other denials are", async () => {
    const warned: Record<string, unknown>[] = [];
    const logger = {
      ...silentLogger,
      warn: (_: string, f?: Record<string, unknown>) => void warned.push(f ?? {}),
    };
    const bucket = {
      name: BUCKET,
      createdAt: 0,
      versioning: "Unversioned",
      publicRead: false,
      settings: { policy: JSON.stringify(POLICY) },
    } as const;
    const call = parseCall(
      new Request(`http://h/s3/${BUCKET}?delete`, { method: "POST" }),
      { via: "path", params: {} },
      {
        incoming: undefined,
        requestId: "req-7",
        principal: { kind: "user", userId: "u-1", claims: { sub: "u-1" } },
      },
    );
    const may = await deleteKeyAccess(call, { storage: { bucket: async () => bucket }, logger });
    assert.equal(may("users/u-1/a", undefined), true);
    assert.equal(may("users/u-2/a", undefined), false);
    assert.equal(may("users/u-1/a", "v1"), false, "a version needs s3:DeleteObjectVersion");
    assert.deepEqual(
      warned.map((w) => [w.requestId, w.operation, w.key]),
      [
        ["req-7", "DeleteObjects", "users/u-2/a"],
        ["req-7", "DeleteObjects", "users/u-1/a"],
      ],
    );
    assert.match(
      String(warned[0]?.reason),
      /no statement allows s3:DeleteObject on .*users\/u-2\/a for user u-1/,
    );
    assert.match(String(warned[1]?.reason), /s3:DeleteObjectVersion/);
  });
});
