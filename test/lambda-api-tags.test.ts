/**
 * End to end: a function's tags through @aws-sdk/client-lambda, as on Lambda: given at
 * CreateFunction, added and removed by ARN, listed, and shown by GetFunction; Lambda's limits
 * and its errors for a wrong ARN, a missing function and a reserved key.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-lambda";
import { startPlatform, type TestPlatform, zipOf } from "./helpers/platform.js";

let t: TestPlatform;
let zip: Buffer;
const arnOf = (name: string, qualifier?: string) =>
  `arn:aws:lambda:us-east-1:000000000000:function:${name}${qualifier ? `:${qualifier}` : ""}`;

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  zip = await zipOf({ "index.mjs": "export const handler = async () => 1;" });
});
after(async () => {
  await t.close();
});

function create(name: string, tags?: Record<string, string>) {
  return t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: zip },
      ...(tags ? { Tags: tags } : {}),
    }),
  );
}

const list = async (name: string) =>
  (await t.lambda.send(new ListTagsCommand({ Resource: arnOf(name) }))).Tags;

type SdkError = Error & { $metadata?: { httpStatusCode?: number } };

async function refused(call: Promise<unknown>, name: string, status: number, message: RegExp) {
  await assert.rejects(call, (err: SdkError) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status);
    assert.match(err.message, message);
    return true;
  });
}

describe("function tags", () => {
  test("tags given at CreateFunction are listed and shown by GetFunction", async () => {
    await create("tagged", { team: "shop", "cost-center": "42" });
    assert.deepEqual(await list("tagged"), { team: "shop", "cost-center": "42" });
    const got = await t.lambda.send(new GetFunctionCommand({ FunctionName: "tagged" }));
    assert.deepEqual(got.Tags, { team: "shop", "cost-center": "42" });
  });

  test("a function without tags lists none, and GetFunction leaves Tags out", async () => {
    await create("plain");
    assert.deepEqual(await list("plain"), {});
    const got = await t.lambda.send(new GetFunctionCommand({ FunctionName: "plain" }));
    assert.equal(got.Tags, undefined);
  });

  test("TagResource adds and overwrites; UntagResource removes, ignoring keys not there", async () => {
    await create("changing", { a: "1", b: "2" });
    await t.lambda.send(new TagResourceCommand({ Resource: arnOf("changing"), Tags: { b: "two", c: "" } }));
    assert.deepEqual(await list("changing"), { a: "1", b: "two", c: "" });
    await t.lambda.send(new UntagResourceCommand({ Resource: arnOf("changing"), TagKeys: ["a", "c", "zz"] }));
    assert.deepEqual(await list("changing"), { b: "two" });
    const got = await t.lambda.send(new GetFunctionCommand({ FunctionName: "changing" }));
    assert.deepEqual(got.Tags, { b: "two" }, "GetFunction sees the change at once");
  });

  test("a function deleted and made again under its name has no tags", async () => {
    await create("again", { old: "yes" });
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "again" }));
    await create("again");
    assert.deepEqual(await list("again"), {});
  });

  test("at most 50 tags: a TagResource that would pass the limit is refused and changes nothing", async () => {
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"]));
    await create("full", many);
    await t.lambda.send(new TagResourceCommand({ Resource: arnOf("full"), Tags: { k49: "v" } }));
    await refused(
      t.lambda.send(new TagResourceCommand({ Resource: arnOf("full"), Tags: { k50: "v", k0: "w" } })),
      "InvalidParameterValueException",
      400,
      /Value '51' at 'tags' .* at most 50 tags per function/,
    );
    const now = await list("full");
    assert.equal(Object.keys(now ?? {}).length, 50);
    assert.equal(now?.k0, "v");
    await refused(
      create("too-many", { ...many, x: "1", y: "2" }),
      "InvalidParameterValueException",
      400,
      /at most 50 tags/,
    );
  });

  test("keys of 1 to 128 characters, values up to 256, keys not under aws:", async () => {
    await create("limits");
    await t.lambda.send(
      new TagResourceCommand({
        Resource: arnOf("limits"),
        Tags: { ["k".repeat(128)]: "v".repeat(256), "é x_.:/=+-@": "ok" },
      }),
    );
    const tag = (tags: Record<string, string>) =>
      t.lambda.send(new TagResourceCommand({ Resource: arnOf("limits"), Tags: tags }));
    await refused(tag({ ["k".repeat(129)]: "v" }), "InvalidParameterValueException", 400, /tags/);
    await refused(tag({ k: "v".repeat(257) }), "InvalidParameterValueException", 400, /tags\.k/);
    await refused(tag({ "aws:cloudformation:stack": "x" }), "InvalidParameterValueException", 400, /aws:/);
    await refused(tag({ "a*b": "v" }), "InvalidParameterValueException", 400, /tags/);
    assert.equal(Object.keys((await list("limits")) ?? {}).length, 2, "refusals change nothing");
  });

  test("a function's ARN only: a version's or alias's is refused, a name is not an ARN", async () => {
    await create("versioned");
    await t.lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    await refused(
      t.lambda.send(new TagResourceCommand({ Resource: arnOf("versioned", "1"), Tags: { a: "1" } })),
      "InvalidParameterValueException",
      400,
      /^Tags on function aliases and versions are not supported/,
    );
    await refused(
      t.lambda.send(new ListTagsCommand({ Resource: "versioned" })),
      "InvalidParameterValueException",
      400,
      /function's ARN/,
    );
  });

  test("a function that does not exist, here or in another account, is ResourceNotFoundException", async () => {
    for (const call of [
      () => t.lambda.send(new ListTagsCommand({ Resource: arnOf("ghost") })),
      () => t.lambda.send(new TagResourceCommand({ Resource: arnOf("ghost"), Tags: { a: "1" } })),
      () => t.lambda.send(new UntagResourceCommand({ Resource: arnOf("ghost"), TagKeys: ["a"] })),
    ])
      await refused(
        call(),
        "ResourceNotFoundException",
        404,
        /^Function not found: arn:aws:lambda:.*:ghost$/,
      );
    const elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:tagged";
    await refused(
      t.lambda.send(new ListTagsCommand({ Resource: elsewhere })),
      "ResourceNotFoundException",
      404,
      /123456789012/,
    );
  });
});
