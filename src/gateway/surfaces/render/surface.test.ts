/** The render surface in-process: its paths, its answer's headers, who it takes as the caller. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { noSuchBucket } from "../../../services/storage/errors.js";
import type { BucketRecord } from "../../../services/storage/model.js";
import type { RenderRequest, RenderResult } from "../../../services/storage/transforms.js";
import { silentLogger } from "../../../shared/logger.js";
import { createAuthenticator } from "../../auth/principal.js";
import { serveSurfaces } from "../../dispatch.js";
import { renderSurface } from "./surface.js";

const CREDS = { accessKeyId: "AKIDRENDERTEST", secretAccessKey: "render-test-secret" };
const PREFIX = "http://localhost/storage/v1/render/image";

function served(o: { publicRead: boolean }) {
  const asked: RenderRequest[] = [];
  const bucket = (name: string): BucketRecord => ({
    name,
    createdAt: 0,
    versioning: "Unversioned",
    publicRead: o.publicRead,
    settings: {},
  });
  const surface = renderSurface({
    storage: {
      bucket: async (name) => (name === "photos" ? bucket(name) : Promise.reject(noSuchBucket(name))),
    },
    userClaims: async (token) => (token === "alice-token" ? { sub: "alice" } : undefined),
    logger: silentLogger,
    transforms: {
      render: async (r): Promise<RenderResult> => {
        asked.push(r);
        return {
          kind: "image",
          etag: '"v1"',
          cacheControl: undefined,
          lastModified: Date.UTC(2026, 0, 1),
          bytes: Buffer.from("webp bytes"),
          contentType: "image/webp",
          cache: "miss",
        };
      },
    },
  });
  const app = serveSurfaces([surface], {
    authenticator: createAuthenticator("verify", CREDS, () => Date.now()),
    logger: silentLogger,
  });
  return { app, asked };
}

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe("the render surface", () => {
  test("the key is the rest of the path, percent-decoded once", async () => {
    const { app, asked } = served({ publicRead: true });
    const res = await app.request(`${PREFIX}/public/photos/a/b%20c%2Fd+e.png?width=10&format=webp`);
    assert.equal(res.status, 200);
    assert.deepEqual([asked[0]?.bucket, asked[0]?.key], ["photos", "a/b c/d+e.png"]);
    assert.equal(asked[0]?.query.get("width"), "10");
    assert.equal(res.headers.get("content-type"), "image/webp");
    assert.equal(res.headers.get("x-nimbus-transform-cache"), "miss");
    assert.equal(res.headers.get("etag"), '"v1"');
    assert.equal(res.headers.get("last-modified"), "Thu, 01 Jan 2026 00:00:00 GMT");
    assert.equal(await res.text(), "webp bytes");
  });

  test("download without a name takes the key's last segment", async () => {
    const { app } = served({ publicRead: true });
    const res = await app.request(`${PREFIX}/public/photos/2026/caf%C3%A9.png?download`);
    assert.equal(
      res.headers.get("content-disposition"),
      `attachment; filename="caf_.png"; filename*=UTF-8''caf%C3%A9.png`,
    );
  });

  test("paths the endpoint does not have are refused, each saying what it takes", async () => {
    const { app, asked } = served({ publicRead: true });
    const sign = await app.request(`${PREFIX}/sign/photos/a.png?token=x`);
    assert.equal(sign.status, 501);
    assert.match((await errorOf(sign)).message, /signed render URLs .* are not implemented/);
    const other = await app.request(`${PREFIX}/private/photos/a.png`);
    assert.equal(other.status, 404);
    assert.match((await errorOf(other)).message, /render\/image\/public\/\{bucket\}\/\{key\}/);
    const noKey = await app.request(`${PREFIX}/public/photos/`);
    assert.deepEqual([noKey.status, (await errorOf(noKey)).code], [400, "InvalidURI"]);
    const badEncoding = await app.request(`${PREFIX}/public/photos/%E0%A4%A.png`);
    assert.deepEqual([badEncoding.status, (await errorOf(badEncoding)).code], [400, "InvalidURI"]);
    assert.equal(asked.length, 0);
  });

  test("a private bucket denies the anonymous caller; a user's token counts only on the authenticated path", async () => {
    const { app, asked } = served({ publicRead: false });
    const anonymous = await app.request(`${PREFIX}/public/photos/a.png`);
    assert.deepEqual([anonymous.status, (await errorOf(anonymous)).code], [403, "AccessDenied"]);
    // The policy of this bucket allows nobody: the user is refused by it, after their token verified.
    const user = await app.request(`${PREFIX}/authenticated/photos/a.png`, {
      headers: { authorization: "Bearer alice-token" },
    });
    assert.deepEqual([user.status, (await errorOf(user)).code], [403, "AccessDenied"]);
    const forged = await app.request(`${PREFIX}/authenticated/photos/a.png`, {
      headers: { authorization: "Bearer forged" },
    });
    assert.equal(forged.status, 403);
    assert.match((await errorOf(forged)).message, /not a valid access token/);
    // On the public path a token is not read at all, forged or not.
    const ignored = await app.request(`${PREFIX}/public/photos/a.png`, {
      headers: { authorization: "Bearer forged" },
    });
    assert.equal((await errorOf(ignored)).code, "AccessDenied");
    const basic = `Basic ${Buffer.from(`${CREDS.accessKeyId}:${CREDS.secretAccessKey}`).toString("base64")}`;
    const operator = await app.request(`${PREFIX}/authenticated/photos/a.png`, {
      headers: { authorization: basic },
    });
    assert.equal(operator.status, 200);
    assert.equal(asked.length, 1);
  });
});
