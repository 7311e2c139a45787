/**
 * End to end: the edges of the Lambda API as a user of @aws-sdk/client-lambda (and the AWS
 * CLI's paths) sees them. Operations Nimbus does not implement, GetAccountSettings' usage, and
 * GetFunction's Code.Location, a presigned link that expires.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetLayerVersionByArnCommand,
  GetPolicyCommand,
  LambdaClient,
  ListCodeSigningConfigsCommand,
  ListLayersCommand,
  PublishVersionCommand,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { CODE_URL_TTL_MS } from "../src/control/code-urls.js";
import { FakeClock } from "../src/shared/clock.js";
import { startPlatform, type TestPlatform, zipOf } from "./helpers/platform.js";

const clock = new FakeClock(Date.now());
let t: TestPlatform;
/** Signs raw requests, for paths the SDK does not send (the AWS CLI's trailing slashes). */
let raw: NimbusClient;

before(async () => {
  t = await startPlatform({ poolSize: 0 }, clock);
  raw = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  await t.close();
});

/** A package of its own for each name, whose size grows with the name's length. */
function packageFor(name: string): Promise<Buffer> {
  return zipOf({
    "index.mjs": `export const handler = async () => ${JSON.stringify(name)};`,
    "data.bin": randomBytes(64 * name.length),
  });
}

async function deploy(name: string): Promise<Buffer> {
  const zip = await packageFor(name);
  await t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: zip },
    }),
  );
  return zip;
}

type SdkError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number } };

/** The call fails with Lambda's error `name` and HTTP `status`, its message matching `message`. */
async function refused(call: Promise<unknown>, name: string, status: number, message: RegExp) {
  let seen: SdkError | undefined;
  await assert.rejects(call, (err: SdkError) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status);
    assert.match(err.message, message);
    seen = err;
    return true;
  });
  return seen!;
}

const usage = async () => (await t.lambda.send(new GetAccountSettingsCommand({}))).AccountUsage;

describe("GetAccountSettings", () => {
  test("counts the functions and the code each of their versions stores", async () => {
    assert.deepEqual(await usage(), { FunctionCount: 0, TotalCodeSize: 0 });
    const a = await deploy("counted");
    const b = await deploy("counted-longer");
    assert.notEqual(a.length, b.length);
    assert.deepEqual(await usage(), { FunctionCount: 2, TotalCodeSize: a.length + b.length });
    // As on Lambda, a published version stores its code too, though it is $LATEST's package.
    await t.lambda.send(new PublishVersionCommand({ FunctionName: "counted" }));
    assert.deepEqual(await usage(), { FunctionCount: 2, TotalCodeSize: 2 * a.length + b.length });
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "counted-longer" }));
    assert.deepEqual(await usage(), { FunctionCount: 1, TotalCodeSize: 2 * a.length });
  });

  test("answers the AWS CLI's path, with its trailing slash, as the SDK's", async () => {
    const res = await raw.request("GET", "/2016-08-19/account-settings/");
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      AccountUsage: unknown;
      AccountLimit: { ConcurrentExecutions: number };
    };
    assert.deepEqual(body.AccountUsage, await usage());
    assert.equal(body.AccountLimit.ConcurrentExecutions, 1000);
  });
});

describe("operations Nimbus does not implement", () => {
  const fn = "present";
  const arn = `arn:aws:lambda:us-east-1:000000000000:function:${fn}`;
  before(async () => {
    await deploy(fn);
  });

  // Each sends one command of an operation Nimbus does not implement.
  const unsupported: [string, () => Promise<unknown>][] = [
    [
      "AddPermission",
      () =>
        t.lambda.send(
          new AddPermissionCommand({
            FunctionName: fn,
            StatementId: "s3",
            Action: "lambda:InvokeFunction",
            Principal: "s3.amazonaws.com",
          }),
        ),
    ],
    ["GetPolicy", () => t.lambda.send(new GetPolicyCommand({ FunctionName: fn }))],
    ["ListCodeSigningConfigs", () => t.lambda.send(new ListCodeSigningConfigsCommand({}))],
    ["ListLayers", () => t.lambda.send(new ListLayersCommand({}))],
    [
      "GetLayerVersionByArn",
      () =>
        t.lambda.send(
          new GetLayerVersionByArnCommand({ Arn: "arn:aws:lambda:us-east-1:000000000000:layer:l:1" }),
        ),
    ],
  ];

  for (const [operation, call] of unsupported) {
    test(`${operation} is refused with 501 NotImplementedException naming it, not a missing function`, async () => {
      await refused(
        call(),
        "NotImplementedException",
        501,
        new RegExp(
          `^Nimbus does not implement the Lambda operation ${operation} \\((GET|POST|PUT|DELETE) /20`,
        ),
      );
    });
  }

  test("the function those operations named still exists", async () => {
    const got = await t.lambda.send(new GetFunctionCommand({ FunctionName: fn }));
    assert.equal(got.Configuration?.FunctionArn, arn);
  });

  test("the SDK does not retry the refusal: it fails on the first attempt", async () => {
    const retrying = new LambdaClient({
      endpoint: t.url,
      region: "us-east-1",
      credentials: t.platform.credentials,
    });
    try {
      const err = await refused(
        retrying.send(new GetPolicyCommand({ FunctionName: fn })),
        "NotImplementedException",
        501,
        /GetPolicy/,
      );
      assert.equal(err.$metadata?.attempts, 1);
    } finally {
      retrying.destroy();
    }
  });

  test("the AWS CLI's trailing-slash path is refused the same way", async () => {
    const res = await raw.request("GET", "/2018-10-31/layers/");
    assert.equal(res.status, 501);
    assert.equal(res.headers.get("x-amzn-errortype"), "NotImplementedException");
    assert.match(((await res.json()) as { message: string }).message, /operation ListLayers /);
  });

  test("an unsigned request is refused for its missing signature before anything else", async () => {
    const res = await fetch(`${t.url}/2015-03-31/functions/${fn}/policy`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("x-amzn-errortype"), "MissingAuthenticationTokenException");
  });

  test("a path that is no Lambda operation is still a plain 404", async () => {
    const lambdaShaped = await raw.request("GET", "/2015-03-31/no-such-thing");
    assert.equal(lambdaShaped.status, 404);
    assert.equal(lambdaShaped.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
    assert.match(
      ((await lambdaShaped.json()) as { message: string }).message,
      /^No route for GET \/2015-03-31\/no-such-thing$/,
    );
    const nimbus = await raw.request("GET", "/nimbus/v1/no-such-thing");
    assert.equal(nimbus.status, 404);
    assert.equal(((await nimbus.json()) as { error: { code: string } }).error.code, "NotFound");
  });
});

describe("GetFunction's Code.Location", () => {
  const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  let zip: Buffer;
  let location: URL;
  before(async () => {
    zip = await deploy("downloadable");
    await deploy("other");
    const got = await t.lambda.send(new GetFunctionCommand({ FunctionName: "downloadable" }));
    location = new URL(got.Code!.Location!);
  });
  const download = async (url: URL | string) => {
    const res = await fetch(url);
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      bytes: new Uint8Array(await res.arrayBuffer()),
    };
  };
  const errorOf = (bytes: Uint8Array) =>
    (JSON.parse(Buffer.from(bytes).toString("utf8")) as { error: { code: string; message: string } }).error;

  test("downloads, unsigned, the exact zip deployed", async () => {
    assert.equal(location.origin, t.url);
    const got = await download(location);
    assert.equal(got.status, 200);
    assert.equal(got.type, "application/zip");
    assert.equal(sha256(got.bytes), sha256(zip));
  });

  test("is on the host and port the client used", async () => {
    const port = new URL(t.url).port;
    const viaName = new LambdaClient({
      endpoint: `http://localhost:${port}`,
      region: "us-east-1",
      credentials: t.platform.credentials,
      maxAttempts: 1,
    });
    try {
      const got = await viaName.send(new GetFunctionCommand({ FunctionName: "downloadable" }));
      const url = new URL(got.Code!.Location!);
      assert.equal(url.origin, `http://localhost:${port}`);
      assert.equal(sha256((await download(url)).bytes), sha256(zip));
    } finally {
      viaName.destroy();
    }
  });

  test("a tampered link is refused with 403 and says why", async () => {
    const other = new URL(
      (await t.lambda.send(new GetFunctionCommand({ FunctionName: "other" }))).Code!.Location!,
    );
    const signature = location.searchParams.get("Signature")!;
    const flipped = new URL(location);
    flipped.searchParams.set("Signature", `${signature[0] === "0" ? "1" : "0"}${signature.slice(1)}`);
    const stretched = new URL(location);
    stretched.searchParams.set("Expires", String(Number(location.searchParams.get("Expires")) + 3600));
    const elsewhere = new URL(location);
    elsewhere.pathname = other.pathname;
    for (const url of [flipped, stretched, elsewhere]) {
      const got = await download(url);
      assert.equal(got.status, 403, url.href);
      assert.equal(errorOf(got.bytes).code, "InvalidSignature");
      assert.match(
        errorOf(got.bytes).message,
        /is not valid: its signature does not match .*GetFunction's Code.Location/,
      );
    }
    const bare = await download(`${location.origin}${location.pathname}`);
    assert.equal(bare.status, 403);
    assert.match(errorOf(bare.bytes).message, /needs its Expires and Signature query parameters/);
  });

  // Last in the file: it moves the platform's clock on by ten minutes.
  test("a link serves for ten minutes, then is refused as expired", async () => {
    clock.advance(CODE_URL_TTL_MS - 60_000);
    assert.equal((await download(location)).status, 200);
    clock.advance(60_000);
    const got = await download(location);
    assert.equal(got.status, 403);
    assert.equal(errorOf(got.bytes).code, "RequestExpired");
    assert.match(
      errorOf(got.bytes).message,
      /expired at \d{4}-.*\(links last 10 minutes\); get a fresh link/,
    );
  });
});
