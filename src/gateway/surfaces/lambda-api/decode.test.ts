import assert from "node:assert/strict";
import { test } from "node:test";
import { NimbusError, type Problem } from "../../../shared/errors.js";
import * as decode from "./decode.js";
import { lambdaMessage } from "./errors.js";

const ZIP = Buffer.from("PK fake").toString("base64");

/** The error `fn` throws: an InvalidParameter NimbusError. */
function refusal(fn: () => unknown): NimbusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof NimbusError, String(err));
    assert.equal(err.code, "InvalidParameter");
    return err;
  }
  assert.fail("expected the input to be refused");
}

const fieldsOf = (problems: readonly Problem[]) => problems.map((p) => [p.field, p.rule]);

test("a plain name, name:qualifier, a partial ARN and a full ARN name the same function", () => {
  assert.deepEqual(decode.functionRef("resize"), { name: "resize", qualifier: undefined });
  assert.deepEqual(decode.functionRef("resize:live"), { name: "resize", qualifier: "live" });
  assert.deepEqual(decode.functionRef("123456789012:function:resize:3"), { name: "resize", qualifier: "3" });
  assert.deepEqual(decode.functionRef("arn:aws:lambda:eu-west-1:123456789012:function:resize"), {
    name: "resize",
    qualifier: undefined,
  });
  assert.deepEqual(decode.functionRef("arn:aws:lambda:us-east-1:000000000000:function:resize:$LATEST"), {
    name: "resize",
    qualifier: "$LATEST",
  });
});

test("the Qualifier parameter applies, and must agree with a qualifier the name carries", () => {
  assert.deepEqual(decode.functionRef("resize", "2"), { name: "resize", qualifier: "2" });
  assert.deepEqual(decode.functionRef("resize:2", "2"), { name: "resize", qualifier: "2" });
  assert.deepEqual(decode.functionRef("resize", ""), { name: "resize", qualifier: undefined });
  assert.match(
    refusal(() => decode.functionRef("resize:2", "3")).message,
    /derived qualifier from the function name does not match the specified qualifier: 2 and 3/,
  );
});

test("a malformed ARN or name is refused in Lambda's words, naming the value", () => {
  const arn = refusal(() => decode.functionRef("arn:aws:s3:::bucket"));
  assert.equal(
    lambdaMessage(arn),
    "1 validation error detected: Value 'arn:aws:s3:::bucket' at 'functionName' failed to satisfy constraint: Member must be a function name or a Lambda function ARN",
  );
  assert.deepEqual(fieldsOf(refusal(() => decode.functionRef("a:b:c")).problems), [
    ["functionName", "pattern"],
  ]);
  assert.deepEqual(fieldsOf(refusal(() => decode.functionRef("has space")).problems), [
    ["functionName", "pattern"],
  ]);
  assert.deepEqual(fieldsOf(refusal(() => decode.functionRef("resize:bad qualifier")).problems), [
    ["qualifier", "pattern"],
  ]);
});

test("CreateFunction's body becomes a FunctionSpec in the platform's own terms", () => {
  const spec = decode.createFunction({
    FunctionName: "resize",
    Runtime: "nodejs20.x",
    Handler: "index.handler",
    Role: "arn:aws:iam::000000000000:role/r",
    MemorySize: 256,
    Timeout: 30,
    Environment: { Variables: { STAGE: "prod" } },
    Description: "makes thumbnails",
    Architectures: ["x86_64"],
    DeadLetterConfig: { TargetArn: "arn:aws:lambda:us-east-1:000000000000:function:dead-letters" },
    SnapStart: { ApplyOn: "PublishedVersions" },
    EphemeralStorage: { Size: 1024 },
    Publish: true,
    Code: { ZipFile: ZIP },
  });
  assert.deepEqual(spec, {
    functionName: "resize",
    runtime: "nodejs20.x",
    handler: "index.handler",
    role: "arn:aws:iam::000000000000:role/r",
    memoryMb: 256,
    timeoutS: 30,
    environment: { STAGE: "prod" },
    description: "makes thumbnails",
    architecture: "x86_64",
    deadLetterTarget: "dead-letters",
    snapStart: "PublishedVersions",
    ephemeralStorageMb: 1024,
    publish: true,
    code: { kind: "zip", zip: Buffer.from(ZIP, "base64") },
  });
});

test("fields of the wrong type are all refused at once, under the spec's names, and render as Lambda's errors", () => {
  const err = refusal(() =>
    decode.createFunction({
      FunctionName: 7,
      Runtime: "nodejs20.x",
      MemorySize: "256",
      Timeout: null,
      Environment: { Variables: { A: 1 } },
      Code: { ZipFile: ZIP },
    }),
  );
  assert.deepEqual(fieldsOf(err.problems), [
    ["functionName", "type"],
    ["memoryMb", "type"],
    ["timeoutS", "type"],
    ["environment.A", "type"],
  ]);
  assert.match(err.message, /memoryMb is "256": it must be an integer from 128 to 10240 \(MB\)/);
  assert.match(
    lambdaMessage(err),
    /^4 validation errors detected: Value '7' at 'functionName' .*; Value '256' at 'memorySize' failed to satisfy constraint: Member must be an integer from 128 to 10240 \(MB\); Value 'null' at 'timeout' .*; Value '1' at 'environment.variables.A' failed to satisfy constraint: Member must be a string$/,
  );
});

test("a missing FunctionName or Runtime is refused as Lambda refuses a null member", () => {
  const err = refusal(() => decode.createFunction({ Code: { ZipFile: ZIP } }));
  assert.deepEqual(fieldsOf(err.problems), [
    ["functionName", "required"],
    ["runtime", "required"],
  ]);
  assert.match(lambdaMessage(err), /Value 'null' at 'functionName'.*; Value 'null' at 'runtime'/);
});

test("code must be a base64 ZipFile: S3 and images are refused by name", () => {
  const base = { FunctionName: "f", Runtime: "nodejs20.x", Handler: "index.handler" };
  assert.match(refusal(() => decode.createFunction(base)).message, /^Code is required/);
  assert.match(
    refusal(() => decode.createFunction({ ...base, Code: { S3Bucket: "b", S3Key: "k" } })).message,
    /S3Bucket\/S3Key and ImageUri are not supported/,
  );
  assert.match(
    lambdaMessage(refusal(() => decode.updateCode({ ZipFile: 12 }))),
    /Value '\(not base64 text\)' at 'zipFile'/,
  );
});

test("a dead-letter target is a function's name or a queue's ARN; anything else is refused; an empty one removes it", () => {
  const queue = "arn:aws:sqs:us-east-1:000000000000:q";
  assert.equal(
    decode.updateConfiguration({ DeadLetterConfig: { TargetArn: queue } }).deadLetterTarget,
    queue,
  );
  assert.match(
    refusal(() =>
      decode.updateConfiguration({ DeadLetterConfig: { TargetArn: "arn:aws:sns:us-east-1:000000000000:t" } }),
    ).message,
    /delivers dead letters to a function or a standard queue/,
  );
  assert.equal(decode.updateConfiguration({ DeadLetterConfig: { TargetArn: "" } }).deadLetterTarget, null);
  assert.equal(decode.updateConfiguration({ DeadLetterConfig: null }).deadLetterTarget, null);
  assert.equal(decode.updateConfiguration({}).deadLetterTarget, undefined);
});

test("UpdateFunctionConfiguration leaves out what the body leaves out, and clears what it nulls", () => {
  const patch = decode.updateConfiguration({
    MemorySize: 512,
    Environment: null,
    SnapStart: { ApplyOn: "None" },
  });
  assert.equal(patch.memoryMb, 512);
  assert.deepEqual(patch.environment, {});
  assert.equal(patch.snapStart, null);
  assert.equal(patch.runtime, undefined);
  assert.equal(patch.timeoutS, undefined);
  assert.match(
    lambdaMessage(refusal(() => decode.updateConfiguration({ SnapStart: { ApplyOn: "Always" } }))),
    /Value 'Always' at 'snapStart.applyOn'.*\[PublishedVersions, None\]/,
  );
});

test("aliases: weights become a map of numbers, a null RoutingConfig stops routing, a string weight is refused", () => {
  assert.deepEqual(
    decode.createAlias({
      Name: "live",
      FunctionVersion: "1",
      RoutingConfig: { AdditionalVersionWeights: { 2: 0.1 } },
    }),
    { name: "live", functionVersion: "1", description: undefined, additionalVersionWeights: { "2": 0.1 } },
  );
  assert.deepEqual(decode.updateAlias({ RoutingConfig: null }).additionalVersionWeights, {});
  assert.equal(decode.updateAlias({}).additionalVersionWeights, undefined);
  const err = refusal(() =>
    decode.updateAlias({ RoutingConfig: { AdditionalVersionWeights: { 2: "half" } } }),
  );
  assert.match(lambdaMessage(err), /Value 'half' at 'routingConfig.additionalVersionWeights.2'.*0.0 to 1.0/);
});

test("concurrency bodies give numbers; anything else is refused naming Lambda's field", () => {
  assert.equal(decode.reservedConcurrency({ ReservedConcurrentExecutions: 5 }), 5);
  assert.match(
    lambdaMessage(refusal(() => decode.reservedConcurrency({ ReservedConcurrentExecutions: "5" }))),
    /Value '5' at 'reservedConcurrentExecutions'.*greater than or equal to 0/,
  );
  assert.equal(decode.provisionedConcurrency({ ProvisionedConcurrentExecutions: 2 }), 2);
});

test("an event invoke config body becomes an EventInvokeSpec: destinations by name and qualifier", () => {
  const arn = "arn:aws:lambda:us-east-1:000000000000:function";
  assert.deepEqual(
    decode.eventInvokeConfig({
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 600,
      DestinationConfig: {
        OnSuccess: { Destination: `${arn}:audit:live` },
        OnFailure: { Destination: `${arn}:dead-letters` },
      },
    }),
    {
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 600,
      onSuccess: { functionName: "audit", qualifier: "live" },
      onFailure: { functionName: "dead-letters", qualifier: undefined },
    },
  );
  // Left out: an update keeps them. An empty or null destination removes it.
  assert.deepEqual(decode.eventInvokeConfig({}), {
    maximumRetryAttempts: undefined,
    maximumEventAgeInSeconds: undefined,
  });
  assert.deepEqual(decode.eventInvokeConfig({ DestinationConfig: { OnSuccess: {}, OnFailure: null } }), {
    maximumRetryAttempts: undefined,
    maximumEventAgeInSeconds: undefined,
    onSuccess: null,
    onFailure: null,
  });
});

test("an event invoke config body of the wrong types is refused at once, in Lambda's words", () => {
  const err = refusal(() =>
    decode.eventInvokeConfig({
      MaximumRetryAttempts: "2",
      MaximumEventAgeInSeconds: null,
      DestinationConfig: 7,
    }),
  );
  assert.deepEqual(fieldsOf(err.problems), [
    ["maximumRetryAttempts", "type"],
    ["maximumEventAgeInSeconds", "type"],
    ["destinationConfig", "type"],
  ]);
  assert.match(
    lambdaMessage(err),
    /^3 validation errors detected: Value '2' at 'maximumRetryAttempts' failed to satisfy constraint: Member must be an integer from 0 to 2;/,
  );
  assert.match(
    refusal(() =>
      decode.eventInvokeConfig({
        DestinationConfig: { OnFailure: { Destination: "arn:aws:sns:us-east-1:000000000000:t" } },
      }),
    ).message,
    /destination ARN "arn:aws:sns:us-east-1:000000000000:t" for onFailure is invalid: Nimbus delivers to functions and standard queues/,
  );
});

test("a queue destination is kept by its ARN", () => {
  const queue = "arn:aws:sqs:us-east-1:000000000000:q";
  assert.deepEqual(decode.eventInvokeConfig({ DestinationConfig: { OnFailure: { Destination: queue } } }), {
    maximumRetryAttempts: undefined,
    maximumEventAgeInSeconds: undefined,
    onSuccess: undefined,
    onFailure: { queueArn: queue },
  });
});
