/**
 * End to end: queues as the destinations and dead-letter targets of asynchronous invocations,
 * configured through @aws-sdk/client-lambda and read back through @aws-sdk/client-sqs. A
 * destination queue receives Lambda's invocation record; a dead-letter queue the original event
 * with RequestID, ErrorCode and ErrorMessage; a FIFO or missing queue is refused when configured.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { FakeClock } from "../src/shared/clock.js";
import { createNodeFunction, startPlatform, type TestPlatform, zipOf } from "./helpers/platform.js";
import { eventually } from "./helpers/wait.js";

// Starts at the real time: the SDKs sign with it, and the platform checks signatures against the clock.
const clock = new FakeClock(Date.now());
let t: TestPlatform;
let sqs: SQSClient;

const FAILS = `export const handler = async (e) => { throw new RangeError("no " + e.what); };`;
const QUEUE = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

before(async () => {
  t = await startPlatform({}, clock);
  sqs = new SQSClient({ endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials });
});
after(async () => {
  sqs.destroy();
  await t.close();
});

async function createQueue(name: string, fifo = false): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: name, ...(fifo ? { Attributes: { FifoQueue: "true" } } : {}) }),
  );
  return out.QueueUrl!;
}

async function invokeAsync(name: string, payload: unknown): Promise<string> {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, InvocationType: "Event", Payload: JSON.stringify(payload) }),
  );
  assert.equal(out.StatusCode, 202);
  return out.$metadata.requestId!;
}

/**
 * The first message the queue receives, waiting in real time (the invocation runs for real; the
 * platform's clock is frozen, so a slow cold start never times out).
 */
async function firstMessage(queueUrl: string): Promise<Message> {
  const got = await eventually(
    async () =>
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MessageAttributeNames: ["All"],
            WaitTimeSeconds: 0,
          }),
        )
      ).Messages ?? [],
    (ms) => ms.length > 0,
    { what: `a message in ${queueUrl}`, timeoutMs: 20_000, everyMs: 50 },
  );
  return got[0]!;
}

/** Whether `call` is refused with Lambda's InvalidParameterValueException and a message matching `message`. */
async function refused(call: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.equal(err.name, "InvalidParameterValueException", err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe("queues as destinations and dead-letter targets", () => {
  test("a failure goes to an on-failure queue as Lambda's invocation record", async () => {
    const url = await createQueue("failures");
    await createNodeFunction(t.lambda, "qd-fails", FAILS);
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: "qd-fails",
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: QUEUE("failures") } },
      }),
    );
    const config = await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "qd-fails" }));
    assert.equal(config.DestinationConfig?.OnFailure?.Destination, QUEUE("failures"));

    const id = await invokeAsync("qd-fails", { what: "luck" });
    const message = await firstMessage(url);
    const record = JSON.parse(message.Body!) as {
      requestContext: { requestId: string; condition: string; approximateInvokeCount: number };
      requestPayload: unknown;
      responseContext: { functionError: string };
      responsePayload: { errorType: string; errorMessage: string };
    };
    assert.equal(record.requestContext.requestId, id);
    assert.equal(record.requestContext.condition, "RetriesExhausted");
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.deepEqual(record.requestPayload, { what: "luck" });
    assert.equal(record.responseContext.functionError, "Unhandled");
    assert.equal(record.responsePayload.errorType, "RangeError");
    assert.equal(record.responsePayload.errorMessage, "no luck");
    assert.equal(message.MessageAttributes, undefined, "a destination's message has no attributes");
  });

  test("a success goes to an on-success queue", async () => {
    const url = await createQueue("successes");
    await createNodeFunction(
      t.lambda,
      "qd-ok",
      `export const handler = async (e) => ({ doubled: e.n * 2 });`,
    );
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: "qd-ok",
        DestinationConfig: { OnSuccess: { Destination: QUEUE("successes") } },
      }),
    );
    await invokeAsync("qd-ok", { n: 21 });
    const record = JSON.parse((await firstMessage(url)).Body!) as {
      requestContext: { condition: string };
      responsePayload: unknown;
    };
    assert.equal(record.requestContext.condition, "Success");
    assert.deepEqual(record.responsePayload, { doubled: 42 });
  });

  test("a dead-letter queue receives the original event with RequestID, ErrorCode and ErrorMessage", async () => {
    const url = await createQueue("dead-letters");
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: "qd-dlq",
        Runtime: "nodejs20.x",
        Handler: "index.handler",
        Role: "arn:aws:iam::000000000000:role/test",
        Code: { ZipFile: await zipOf({ "index.mjs": FAILS }) },
        DeadLetterConfig: { TargetArn: QUEUE("dead-letters") },
      }),
    );
    const fn = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "qd-dlq" }));
    assert.equal(fn.DeadLetterConfig?.TargetArn, QUEUE("dead-letters"));
    // No retries: the event's failure is final at once, without advancing the clock.
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: "qd-dlq", MaximumRetryAttempts: 0 }),
    );

    const id = await invokeAsync("qd-dlq", { what: "chance" });
    const message = await firstMessage(url);
    assert.deepEqual(JSON.parse(message.Body!), { what: "chance" });
    const attrs = message.MessageAttributes ?? {};
    assert.deepEqual(attrs.RequestID, { DataType: "String", StringValue: id });
    assert.deepEqual(attrs.ErrorCode, { DataType: "String", StringValue: "200" });
    assert.deepEqual(attrs.ErrorMessage, { DataType: "String", StringValue: "no chance" });
  });

  test("a FIFO queue or a queue that does not exist is refused, as a destination and as a dead-letter target", async () => {
    await createQueue("ordered.fifo", true);
    await createNodeFunction(t.lambda, "qd-refused", FAILS);
    await refused(
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: "qd-refused",
          DestinationConfig: { OnFailure: { Destination: QUEUE("ordered.fifo") } },
        }),
      ),
      /ordered\.fifo for onFailure is a FIFO queue: FIFO queues cannot be destinations/,
    );
    await refused(
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: "qd-refused",
          DestinationConfig: { OnSuccess: { Destination: QUEUE("ghost") } },
        }),
      ),
      new RegExp(`^The destination ${QUEUE("ghost")} for onSuccess does not exist\\.$`),
    );
    await refused(
      t.lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: "qd-refused",
          DeadLetterConfig: { TargetArn: QUEUE("ordered.fifo") },
        }),
      ),
      /FIFO queues cannot be dead-letter queues/,
    );
    await refused(
      t.lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: "qd-refused",
          DeadLetterConfig: { TargetArn: QUEUE("ghost") },
        }),
      ),
      new RegExp(`The dead-letter target ${QUEUE("ghost")} does not exist`),
    );
    const fn = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "qd-refused" }));
    assert.equal(fn.DeadLetterConfig, undefined, "a refusal changes nothing");
  });
});
