import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NimbusError } from "../../shared/errors.js";
import type { BucketRecord } from "./model.js";
import {
  DEFAULT_TRANSFORMS,
  parseTransformsConfig,
  TRANSFORMS_OFF,
  transformsOf,
} from "./transforms-config.js";

const bucket = (transforms?: string): BucketRecord => ({
  name: "photos",
  createdAt: 0,
  versioning: "Unversioned",
  publicRead: false,
  settings: transforms === undefined ? {} : { transforms },
});

function refused(body: Record<string, unknown>): NimbusError {
  try {
    parseTransformsConfig(body);
  } catch (err) {
    if (err instanceof NimbusError) return err;
    throw err;
  }
  throw new Error("it was taken");
}

describe("a bucket's transforms setting", () => {
  test("a body with every field is taken as given, its formats in one order, each once", () => {
    const config = parseTransformsConfig({
      enabled: false,
      maxWidth: 800,
      maxHeight: 600,
      maxSourceBytes: 1_000_000,
      formats: ["png", "webp", "png"],
    });
    assert.deepEqual(config, {
      enabled: false,
      maxWidth: 800,
      maxHeight: 600,
      maxSourceBytes: 1_000_000,
      formats: ["webp", "png"],
    });
  });

  test("a field left out takes its default, and an empty body turns transforms on", () => {
    assert.deepEqual(parseTransformsConfig({}), DEFAULT_TRANSFORMS);
    assert.equal(DEFAULT_TRANSFORMS.enabled, true);
    assert.deepEqual(parseTransformsConfig({ maxWidth: 1000 }), { ...DEFAULT_TRANSFORMS, maxWidth: 1000 });
  });

  test("every problem is named at once, with the field and what it takes", () => {
    const err = refused({
      enable: true,
      enabled: "yes",
      maxWidth: 0,
      maxHeight: 9000,
      maxSourceBytes: 1.5,
      formats: ["webp", "gif"],
    });
    assert.equal(err.code, "InvalidParameter");
    assert.deepEqual(
      err.problems.map((p) => p.field),
      ["transforms", "enabled", "maxWidth", "maxHeight", "maxSourceBytes", "formats.1"],
    );
    assert.match(err.message, /transforms has the key "enable": keys must be one of enabled, maxWidth/);
    assert.match(err.message, /enabled is "yes": it must be true or false/);
    assert.match(err.message, /maxWidth is 0: it must be an integer from 1 to 8192/);
    assert.match(err.message, /maxHeight is 9000: it must be an integer from 1 to 8192/);
    assert.match(err.message, /maxSourceBytes is 1\.5: it must be an integer from 1 to 104857600/);
    assert.match(err.message, /formats\.1 is "gif": it must be one of webp, avif, jpeg, png/);
    assert.match(refused({ formats: [] }).message, /formats is \[\]: it must be a list of one or more of/);
  });

  test("a bucket without the setting has transforms off, at the default limits", () => {
    assert.deepEqual(transformsOf(bucket()), TRANSFORMS_OFF);
    assert.equal(TRANSFORMS_OFF.enabled, false);
    const stored = JSON.stringify(parseTransformsConfig({ maxWidth: 640 }));
    assert.deepEqual(transformsOf(bucket(stored)), { ...DEFAULT_TRANSFORMS, maxWidth: 640 });
  });
});
