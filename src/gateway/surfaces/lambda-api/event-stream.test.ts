import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 } from "node:zlib";
import { EventStreamCodec, getChunkedStream } from "@smithy/core/event-streams";
import { eventStreamEncoder } from "./event-stream.js";

const utf8 = {
  to: (b: Uint8Array) => Buffer.from(b).toString("utf8"),
  from: (s: string) => Buffer.from(s, "utf8"),
};

/** The message's layout read by hand: lengths, both CRC32s, headers (all strings here), payload. */
function parse(message: Uint8Array) {
  const m = Buffer.from(message);
  const total = m.readUInt32BE(0);
  const headersLength = m.readUInt32BE(4);
  assert.equal(total, m.length, "the prelude's total length is the message's");
  assert.equal(m.readUInt32BE(8), crc32(m.subarray(0, 8)), "the prelude's CRC32");
  assert.equal(m.readUInt32BE(total - 4), crc32(m.subarray(0, total - 4)), "the message's CRC32");
  const headers: Record<string, string> = {};
  let at = 12;
  while (at < 12 + headersLength) {
    const nameLength = m.readUInt8(at);
    const name = m.toString("utf8", at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    assert.equal(m.readUInt8(at), 7, `header ${name} is a string`);
    const valueLength = m.readUInt16BE(at + 1);
    headers[name] = m.toString("utf8", at + 3, at + 3 + valueLength);
    at += 3 + valueLength;
  }
  return { headers, payload: m.subarray(12 + headersLength, total - 4) };
}

test("a PayloadChunk is an event message carrying the bytes as they are", async () => {
  const encoder = await eventStreamEncoder();
  const bytes = Buffer.from([0, 1, 2, 255, 0x7b]);
  const message = encoder.payloadChunk(bytes);
  const { headers, payload } = parse(message);
  assert.deepEqual(headers, {
    ":event-type": "PayloadChunk",
    ":message-type": "event",
    ":content-type": "application/octet-stream",
  });
  assert.deepEqual(payload, bytes);
  // And as the SDKs decode it.
  const decoded = new EventStreamCodec(utf8.to, utf8.from).decode(message);
  assert.deepEqual(Buffer.from(decoded.body), bytes);
  assert.deepEqual(decoded.headers[":event-type"], { type: "string", value: "PayloadChunk" });
});

test("InvokeComplete carries its fields as JSON, and only those it has", async () => {
  const encoder = await eventStreamEncoder();
  const { headers, payload } = parse(
    encoder.invokeComplete({
      ErrorCode: "Sandbox.Timedout",
      ErrorDetails: "Task timed out after 1.00 seconds",
    }),
  );
  assert.equal(headers[":event-type"], "InvokeComplete");
  assert.equal(headers[":message-type"], "event");
  assert.equal(headers[":content-type"], "application/json");
  assert.deepEqual(JSON.parse(payload.toString()), {
    ErrorCode: "Sandbox.Timedout",
    ErrorDetails: "Task timed out after 1.00 seconds",
  });
  assert.deepEqual(JSON.parse(parse(encoder.invokeComplete({})).payload.toString()), {});
});

test("messages decode one after the other from a stream cut anywhere, as the SDKs read it", async () => {
  const encoder = await eventStreamEncoder();
  const stream = Buffer.concat([
    encoder.payloadChunk(Buffer.from("one")),
    encoder.payloadChunk(Buffer.from("two")),
    encoder.invokeComplete({ LogResult: "U1RBUlQ=" }),
  ]);
  const codec = new EventStreamCodec(utf8.to, utf8.from);
  for (const cut of [1, 13, 40, stream.length - 3]) {
    async function* arriving() {
      yield stream.subarray(0, cut);
      yield stream.subarray(cut);
    }
    const types: unknown[] = [];
    for await (const message of getChunkedStream(arriving()))
      types.push(codec.decode(message).headers[":event-type"]?.value);
    assert.deepEqual(types, ["PayloadChunk", "PayloadChunk", "InvokeComplete"]);
  }
});
