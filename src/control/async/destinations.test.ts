/** Where an event's ending goes: the invocation record to a destination, the event to dead letters. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Logger } from "../../shared/logger.js";
import { silentLogger } from "../../shared/logger.js";
import type { AcceptInput } from "./accept.js";
import { Destinations, type Ending } from "./destinations.js";
import { formatLineage, MAX_HOPS, nextHop } from "./lineage.js";
import type { QueuedEvent } from "./queue.js";

const NOW = Date.UTC(2026, 11, 1, 12);
const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

function queued(over: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    id: "req-1",
    functionName: "resize",
    qualifier: undefined,
    payload: Buffer.from('{"image":7}'),
    traceId: formatLineage({ root: "1-abc", hops: 2, stopped: false }),
    acceptedAt: NOW - 1000,
    hops: 2,
    status: "running",
    attempts: 2,
    notBefore: 0,
    updatedAt: 0,
    lastError: undefined,
    result: undefined,
    initPhases: undefined,
    heldMs: 0,
    ...over,
  };
}

function ending(over: Partial<Ending> = {}): Ending {
  return {
    event: queued(),
    condition: "RetriesExhausted",
    attempts: 3,
    response: JSON.stringify({ errorType: "RangeError", errorMessage: "no luck" }),
    executed: { version: "$LATEST", deadLetterTarget: undefined },
    ...over,
  };
}

/** A message sent to a queue: its ARN, body and attributes. */
interface QueueMessage {
  readonly arn: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

function destinations(logger: Logger = silentLogger) {
  const sent: AcceptInput[] = [];
  const messages: QueueMessage[] = [];
  const d = new Destinations({
    enqueue: async (input) => {
      sent.push(input);
      return "delivered";
    },
    sendToQueue: async (arn, body, attributes) => {
      messages.push({ arn, body, attributes });
    },
    logger,
    region: "us-east-1",
    accountId: "000000000000",
  });
  return { d, sent, messages };
}

const QUEUE = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

const routes = { onSuccess: ARN("on-success"), onFailure: ARN("on-failure") };

test("a failure goes to the on-failure destination as Lambda's invocation record, one hop down the chain", async () => {
  const { d, sent } = destinations();
  await d.route(routes, ending(), NOW);
  assert.equal(sent.length, 1);
  const [delivery] = sent;
  assert.equal(delivery!.functionName, "on-failure", "the ARN is delivered to as a name");
  assert.equal(delivery!.qualifier, undefined);
  assert.deepEqual(JSON.parse(delivery!.payload.toString()), {
    version: "1.0",
    timestamp: new Date(NOW).toISOString(),
    requestContext: {
      requestId: "req-1",
      functionArn: `${ARN("resize")}:$LATEST`,
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
    },
    requestPayload: { image: 7 },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    responsePayload: { errorType: "RangeError", errorMessage: "no luck" },
  });
  assert.deepEqual(nextHop(delivery!.traceHeader, NOW), { root: "1-abc", hops: 3, stopped: false });
});

test("a success goes to the on-success destination, without a function error, its response parsed", async () => {
  const { d, sent } = destinations();
  await d.route(
    routes,
    ending({
      condition: "Success",
      attempts: 1,
      response: Buffer.from('"fine"'),
      event: queued({ qualifier: "7" }),
    }),
    NOW,
  );
  const record = JSON.parse(sent[0]!.payload.toString());
  assert.equal(sent[0]!.functionName, "on-success");
  assert.equal(record.requestContext.functionArn, `${ARN("resize")}:7`);
  assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: "$LATEST" });
  assert.equal(record.responsePayload, "fine");
});

test("a payload that is not JSON reaches the record as text", async () => {
  const { d, sent } = destinations();
  await d.route(routes, ending({ event: queued({ payload: Buffer.from("plain") }), response: "oops" }), NOW);
  const record = JSON.parse(sent[0]!.payload.toString());
  assert.equal(record.requestPayload, "plain");
  assert.equal(record.responsePayload, "oops");
});

test("without an on-failure destination, the dead-letter target receives the original event; a success goes nowhere", async () => {
  const { d, sent } = destinations();
  const dlq = { version: "3", deadLetterTarget: ARN("dead-letters") };
  await d.route({ onSuccess: undefined, onFailure: undefined }, ending({ executed: dlq }), NOW);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.functionName, "dead-letters");
  assert.equal(sent[0]!.payload.toString(), '{"image":7}');
  await d.route(
    { onSuccess: undefined, onFailure: undefined },
    ending({ condition: "Success", executed: dlq }),
    NOW,
  );
  assert.equal(sent.length, 1);
});

test("with nothing configured, an ending goes nowhere", async () => {
  const { d, sent } = destinations();
  await d.route({ onSuccess: undefined, onFailure: undefined }, ending(), NOW);
  await d.route(
    { onSuccess: ARN("x"), onFailure: undefined },
    ending({ condition: "EventAgeExceeded" }),
    NOW,
  );
  assert.deepEqual(sent, []);
});

test("a loop's on-failure destination gets the chain's last hop, marked stopped", async () => {
  const { d, sent } = destinations();
  const looping = queued({ hops: MAX_HOPS + 1, attempts: 0 });
  await d.route(
    routes,
    ending({ event: looping, condition: "RecursiveInvocationDetected", attempts: 0 }),
    NOW,
  );
  assert.deepEqual(nextHop(sent[0]!.traceHeader, NOW), { root: "1-abc", hops: MAX_HOPS, stopped: true });
});

test("a delivery that cannot be queued is logged; the routing itself does not fail", async () => {
  const warned: unknown[] = [];
  const d = new Destinations({
    enqueue: () => Promise.reject(new Error("the destination was deleted")),
    logger: { ...silentLogger, warn: (msg, fields) => void warned.push({ msg, ...fields }) },
    region: "us-east-1",
    accountId: "000000000000",
  });
  await d.route(routes, ending(), NOW);
  assert.equal(warned.length, 1);
  assert.match(JSON.stringify(warned[0]), /could not deliver to the destination.*on-failure/);
});

test("a queue destination receives the invocation record as the message body, with no attributes", async () => {
  const { d, sent, messages } = destinations();
  await d.route({ onSuccess: undefined, onFailure: QUEUE("failures") }, ending(), NOW);
  assert.deepEqual(sent, [], "no function is invoked");
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.arn, QUEUE("failures"));
  assert.deepEqual(messages[0]!.attributes, {});
  const record = JSON.parse(messages[0]!.body);
  assert.equal(record.requestContext.condition, "RetriesExhausted");
  assert.equal(record.requestContext.functionArn, `${ARN("resize")}:$LATEST`);
  assert.deepEqual(record.responsePayload, { errorType: "RangeError", errorMessage: "no luck" });
});

test("a dead-letter queue receives the original event, with Lambda's RequestID, ErrorCode and ErrorMessage", async () => {
  const { d, messages } = destinations();
  const executed = { version: "$LATEST", deadLetterTarget: QUEUE("dead-letters") };
  await d.route({ onSuccess: undefined, onFailure: undefined }, ending({ executed }), NOW);
  assert.deepEqual(messages, [
    {
      arn: QUEUE("dead-letters"),
      body: '{"image":7}',
      attributes: { RequestID: "req-1", ErrorCode: "200", ErrorMessage: "no luck" },
    },
  ]);
});

test("a dead letter's error message is cut to its first kilobyte; an event that never ran says why", async () => {
  const { d, messages } = destinations();
  const executed = { version: "$LATEST", deadLetterTarget: QUEUE("dead-letters") };
  const long = `${"é".repeat(600)}`;
  await d.route(
    { onSuccess: undefined, onFailure: undefined },
    ending({ executed, response: JSON.stringify({ errorType: "Error", errorMessage: long }) }),
    NOW,
  );
  const message = messages[0]!.attributes.ErrorMessage!;
  assert.equal(Buffer.byteLength(message), 1024);
  assert.ok(long.startsWith(message));
  await d.route(
    { onSuccess: undefined, onFailure: undefined },
    ending({
      executed,
      condition: "EventAgeExceeded",
      attempts: 0,
      response: JSON.stringify({ errorType: "TooManyRequestsException", errorMessage: "Rate exceeded" }),
    }),
    NOW,
  );
  assert.deepEqual(messages[1]!.attributes, {
    RequestID: "req-1",
    ErrorCode: "429",
    ErrorMessage: "Rate exceeded",
  });
});

test("a queue that cannot take the message is logged; the routing itself does not fail", async () => {
  const warned: unknown[] = [];
  const d = new Destinations({
    enqueue: async () => "delivered",
    sendToQueue: () => Promise.reject(new Error("The specified queue does not exist.")),
    logger: { ...silentLogger, warn: (msg, fields) => void warned.push({ msg, ...fields }) },
    region: "us-east-1",
    accountId: "000000000000",
  });
  await d.route({ onSuccess: undefined, onFailure: QUEUE("gone") }, ending(), NOW);
  assert.equal(warned.length, 1);
  assert.match(JSON.stringify(warned[0]), /could not deliver to the destination.*gone/);
});
