import assert from "node:assert/strict";
import { test } from "node:test";
import { EventStreamCodec } from "@smithy/core/event-streams";
import { eventStreamEncoder } from "../gateway/surfaces/lambda-api/event-stream.js";
import { type InvokeStreamEvent, readInvokeEvents } from "./event-stream-reader.js";

async function* arriving(...parts: Uint8Array[]) {
  for (const p of parts) yield p;
}

async function all(body: AsyncIterable<Uint8Array>): Promise<InvokeStreamEvent[]> {
  const out: InvokeStreamEvent[] = [];
  for await (const e of readInvokeEvents(body)) out.push(e);
  return out;
}

test("the platform's events decode in order, however the bytes are cut", async () => {
  const encoder = await eventStreamEncoder();
  const bytes = Buffer.concat([
    encoder.payloadChunk(Buffer.from("one;")),
    encoder.payloadChunk(Buffer.from([0, 255, 1])),
    encoder.invokeComplete({ ErrorCode: "TypeError", ErrorDetails: "broke", LogResult: "UkVQT1JU" }),
  ]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const events = await all(arriving(bytes.subarray(0, cut), bytes.subarray(cut)));
    assert.deepEqual(
      events.map((e) => (e.type === "PayloadChunk" ? Buffer.from(e.payload) : e.complete)),
      [
        Buffer.from("one;"),
        Buffer.from([0, 255, 1]),
        { ErrorCode: "TypeError", ErrorDetails: "broke", LogResult: "UkVQT1JU" },
      ],
      `cut at ${cut}`,
    );
  }
});

test("a chunk is handed over as soon as its message is whole, before the rest arrives", async () => {
  const encoder = await eventStreamEncoder();
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  async function* slow() {
    yield encoder.payloadChunk(Buffer.from("early"));
    await held;
    yield encoder.invokeComplete({});
  }
  const events = readInvokeEvents(slow());
  const first = await events.next();
  assert.equal(first.value?.type, "PayloadChunk");
  release();
  assert.equal((await events.next()).value?.type, "InvokeComplete");
  assert.equal((await events.next()).done, true);
});

test("an answer cut in the middle of a message fails rather than passing for a whole one", async () => {
  const encoder = await eventStreamEncoder();
  const message = encoder.payloadChunk(Buffer.from("cut short"));
  await assert.rejects(all(arriving(message.subarray(0, message.length - 5))), /Truncated event message/);
});

test("an exception message from the service fails with its type and message", async () => {
  const codec = new EventStreamCodec(
    (b) => Buffer.from(b).toString("utf8"),
    (s) => Buffer.from(s, "utf8"),
  );
  const exception = codec.encode({
    headers: {
      ":message-type": { type: "string", value: "exception" },
      ":exception-type": { type: "string", value: "ServiceException" },
    },
    body: Buffer.from('{"message":"gone"}'),
  });
  await assert.rejects(all(arriving(exception)), /^Error: ServiceException: \{"message":"gone"\}$/);
});
