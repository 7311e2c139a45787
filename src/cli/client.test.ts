import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DEFAULT_ENDPOINT, type ReadDataFile, resolveClientOptions } from "./client.js";
import { UsageError } from "./usage-error.js";

/** A data directory holding `files`, as the resolver reads it. */
function dataDir(dir: string, files: Record<string, string>): ReadDataFile {
  return (d, name) => (d === dir ? files[name] : undefined);
}

const STORED = dataDir(".nimbus", {
  endpoint: "http://127.0.0.1:4000\n",
  "credentials.json": JSON.stringify({ accessKeyId: "FILEID", secretAccessKey: "filesecret" }),
});
const EMPTY = dataDir(".nimbus", {});

describe("where the CLI connects", () => {
  test("each endpoint source beats the ones after it: flag, NIMBUS_ENDPOINT, AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, data directory, default", () => {
    const env = {
      NIMBUS_ENDPOINT: "http://nimbus-env:1",
      AWS_ENDPOINT_URL_LAMBDA: "http://lambda-env:2",
      AWS_ENDPOINT_URL: "http://aws-env:3/",
    };
    const endpoint = (flags: { endpoint?: string }, e: Record<string, string>, read = STORED) =>
      resolveClientOptions(flags, e, read).endpoint;
    assert.equal(endpoint({ endpoint: "http://flag:9" }, env), "http://flag:9");
    assert.equal(endpoint({}, env), "http://nimbus-env:1");
    assert.equal(endpoint({}, { ...env, NIMBUS_ENDPOINT: "" }), "http://lambda-env:2");
    assert.equal(endpoint({}, { AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL }), "http://aws-env:3");
    assert.equal(endpoint({}, {}), "http://127.0.0.1:4000");
    assert.equal(endpoint({}, {}, EMPTY), DEFAULT_ENDPOINT);
  });

  test("the data directory is --data, else NIMBUS_DATA, else .nimbus", () => {
    const read = dataDir("/srv/nimbus", { endpoint: "http://srv:1" });
    assert.equal(resolveClientOptions({ data: "/srv/nimbus" }, {}, read).endpoint, "http://srv:1");
    assert.equal(resolveClientOptions({}, { NIMBUS_DATA: "/srv/nimbus" }, read).endpoint, "http://srv:1");
    assert.equal(resolveClientOptions({}, {}, read).endpoint, DEFAULT_ENDPOINT);
  });

  test("the key is the NIMBUS_* pair, else the AWS_* pair, else credentials.json, else none", () => {
    const both = {
      NIMBUS_ACCESS_KEY_ID: "NID",
      NIMBUS_SECRET_ACCESS_KEY: "nsecret",
      AWS_ACCESS_KEY_ID: "AID",
      AWS_SECRET_ACCESS_KEY: "asecret",
    };
    const key = (env: Record<string, string>, read = STORED) => {
      const o = resolveClientOptions({}, env, read);
      return [o.accessKeyId, o.secretAccessKey, o.sources?.key];
    };
    assert.deepEqual(key(both), ["NID", "nsecret", "NIMBUS_ACCESS_KEY_ID / NIMBUS_SECRET_ACCESS_KEY"]);
    assert.deepEqual(key({ AWS_ACCESS_KEY_ID: "AID", AWS_SECRET_ACCESS_KEY: "asecret" }), [
      "AID",
      "asecret",
      "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    ]);
    assert.deepEqual(key({}), ["FILEID", "filesecret", join(".nimbus", "credentials.json")]);
    assert.deepEqual(key({}, EMPTY), [undefined, undefined, undefined]);
  });

  test("half a key pair is a usage error naming the missing variable, not a fall-back to the next source", () => {
    assert.throws(
      () => resolveClientOptions({}, { AWS_ACCESS_KEY_ID: "AID" }, STORED),
      (err: Error) =>
        err instanceof UsageError &&
        err.message === "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both",
    );
  });

  test("the region is --region, NIMBUS_REGION, AWS_REGION, AWS_DEFAULT_REGION, then us-east-1", () => {
    const region = (flags: { region?: string }, env: Record<string, string>) =>
      resolveClientOptions(flags, env, EMPTY).region;
    assert.equal(region({ region: "eu-north-1" }, { NIMBUS_REGION: "x" }), "eu-north-1");
    assert.equal(region({}, { NIMBUS_REGION: "eu-west-1", AWS_REGION: "eu-west-2" }), "eu-west-1");
    assert.equal(region({}, { AWS_REGION: "eu-west-2", AWS_DEFAULT_REGION: "eu-west-3" }), "eu-west-2");
    assert.equal(region({}, { AWS_DEFAULT_REGION: "eu-west-3" }), "eu-west-3");
    assert.equal(region({}, {}), "us-east-1");
  });

  test("an endpoint that is not an http(s) URL is a usage error naming where it came from", () => {
    assert.throws(
      () => resolveClientOptions({}, { AWS_ENDPOINT_URL_LAMBDA: "127.0.0.1:9000" }, EMPTY),
      /AWS_ENDPOINT_URL_LAMBDA must be an http\(s\) URL like http:\/\/127\.0\.0\.1:9000, got "127\.0\.0\.1:9000"/,
    );
    assert.throws(
      () => resolveClientOptions({}, {}, dataDir(".nimbus", { endpoint: "garbage" })),
      /\.nimbus\/endpoint must be an http\(s\) URL/,
    );
  });

  test("an unreadable credentials.json says which file and what it should hold", () => {
    assert.throws(
      () => resolveClientOptions({}, {}, dataDir(".nimbus", { "credentials.json": "{" })),
      /cannot read \.nimbus\/credentials\.json: expected \{"accessKeyId"/,
    );
  });
});
