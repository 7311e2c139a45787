/**
 * A bucket's quota (`/nimbus/v1/storage/buckets/{bucket}/quota`): its byte and object limits,
 * its largest object and the content types it takes, with what it holds now. Nimbus's own: S3
 * has no such setting. The storage service enforces it (`services/storage/quota.ts`).
 */
import { Hono } from "hono";
import type { BucketQuota } from "../../../services/storage/quota.js";
import { parseQuota, quotaOf } from "../../../services/storage/quota.js";
import type { StorageService } from "../../../services/storage/storage.js";
import { NimbusError } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { type BodyLimitRule, bodyOf, type SurfaceEnv } from "../../surface.js";

/** A hundred content types and three numbers fit in far less. */
const MAX_QUOTA_BODY_BYTES = 16 * 1024;

/** The limit of a quota body, which the gateway reads before authenticating its request. */
export const QUOTA_BODY_LIMIT: BodyLimitRule = {
  method: "PUT",
  path: /^\/nimbus\/v1\/storage\/buckets\/[^/]+\/quota$/,
  limit: {
    bytes: MAX_QUOTA_BODY_BYTES,
    tooLarge: `a bucket quota body is at most ${MAX_QUOTA_BODY_BYTES} bytes`,
  },
};

export function storageQuotaApi(d: { storage: Pick<StorageService, "deps"> }): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  const path = "/nimbus/v1/storage/buckets/:bucket/quota";
  const repo = () => d.storage.deps.repo;

  /** `{ bucket, quota, usage }`; quota is null when none is set. */
  const answer = async (bucket: string) => {
    const b = await repo().getBucket(bucket);
    if (b === undefined) throw noBucket(bucket);
    const usage = await repo().usage(bucket);
    const quota: BucketQuota | null = quotaOf(b) ?? null;
    return { bucket, quota, usage: { objects: usage.objects, bytes: usage.bytes } };
  };

  app.get(path, async (c) => c.json(await answer(c.req.param("bucket"))));
  app.put(path, async (c) => {
    const bucket = c.req.param("bucket");
    const quota = parseQuota(parseJsonObject(bodyOf(c)));
    if (!(await repo().putSetting(bucket, "quota", JSON.stringify(quota)))) throw noBucket(bucket);
    return c.json(await answer(bucket));
  });
  app.delete(path, async (c) => {
    const bucket = c.req.param("bucket");
    if (!(await repo().putSetting(bucket, "quota", undefined))) throw noBucket(bucket);
    return c.body(null, 204);
  });
  return app;
}

const noBucket = (bucket: string) => new NimbusError("NotFound", `bucket "${bucket}" does not exist`);
