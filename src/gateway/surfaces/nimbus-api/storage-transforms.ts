/**
 * A bucket's image transforms setting (`/nimbus/v1/storage/buckets/{bucket}/transforms`):
 * whether the render endpoint transforms its images, and within which limits. Nimbus's own:
 * S3 has no such setting. The storage service applies it (`services/storage/transforms.ts`).
 */
import { Hono } from "hono";
import type { StorageService } from "../../../services/storage/storage.js";
import { parseTransformsConfig, transformsOf } from "../../../services/storage/transforms-config.js";
import { NimbusError } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { type BodyLimitRule, bodyOf, type SurfaceEnv } from "../../surface.js";

/** Five fields fit in far less. */
const MAX_TRANSFORMS_BODY_BYTES = 4 * 1024;

/** The limit of a transforms body, which the gateway reads before authenticating its request. */
export const TRANSFORMS_BODY_LIMIT: BodyLimitRule = {
  method: "PUT",
  path: /^\/nimbus\/v1\/storage\/buckets\/[^/]+\/transforms$/,
  limit: {
    bytes: MAX_TRANSFORMS_BODY_BYTES,
    tooLarge: `a bucket transforms body is at most ${MAX_TRANSFORMS_BODY_BYTES} bytes`,
  },
};

export function storageTransformsApi(d: { storage: Pick<StorageService, "deps"> }): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  const path = "/nimbus/v1/storage/buckets/:bucket/transforms";
  const repo = () => d.storage.deps.repo;

  /** `{ bucket, transforms }`: the setting in force, every default filled in (`enabled: false` when none is set). */
  const answer = async (bucket: string) => {
    const b = await repo().getBucket(bucket);
    if (b === undefined) throw noBucket(bucket);
    return { bucket, transforms: transformsOf(b) };
  };

  app.get(path, async (c) => c.json(await answer(c.req.param("bucket"))));
  app.put(path, async (c) => {
    const bucket = c.req.param("bucket");
    const transforms = parseTransformsConfig(parseJsonObject(bodyOf(c)));
    if (!(await repo().putSetting(bucket, "transforms", JSON.stringify(transforms)))) throw noBucket(bucket);
    return c.json(await answer(bucket));
  });
  app.delete(path, async (c) => {
    const bucket = c.req.param("bucket");
    if (!(await repo().putSetting(bucket, "transforms", undefined))) throw noBucket(bucket);
    return c.body(null, 204);
  });
  return app;
}

const noBucket = (bucket: string) => new NimbusError("NotFound", `bucket "${bucket}" does not exist`);
