import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFrame, encodeStreamChunk, FrameDecoder, MAX_FRAME_BYTES } from "./runtime-frames.js";

test("frames survive being split at every byte and joined with others", () => {
  const a = encodeFrame(
    { op: "event", headers: { "lambda-runtime-aws-request-id": "r-1" } },
    Buffer.from('{"n":1}'),
  );
  const b = encodeFrame({ op: "next" });
  const c = encodeFrame({ op: "response", requestId: "r-1", headers: {} }, "é ✓");
  const stream = Buffer.concat([a, b, c]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(
      frames.map((f) => [f.header, f.body.toString()]),
      [
        [{ op: "event", headers: { "lambda-runtime-aws-request-id": "r-1" } }, '{"n":1}'],
        [{ op: "next" }, ""],
        [{ op: "response", requestId: "r-1", headers: {} }, "é ✓"],
      ],
    );
  }
});

test("a frame longer than the limit, or a header overrunning its frame, is refused", () => {
  const tooLong = Buffer.alloc(8);
  tooLong.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
  assert.throws(() => new FrameDecoder().push(tooLong), /out of bounds/);
  const overrun = Buffer.alloc(12);
  overrun.writeUInt32BE(8, 0);
  overrun.writeUInt32BE(100, 4);
  assert.throws(() => new FrameDecoder().push(overrun), /overruns/);
});

test("a streamed response's frames decode in order, each chunk's bytes as written", () => {
  const start = encodeFrame(
    { op: "stream-start", requestId: "r-2", headers: { "content-type": "text/plain" } },
    Buffer.from("first"),
  );
  const chunk = encodeStreamChunk(Buffer.from("second ✓"));
  const end = encodeFrame({ op: "stream-end", errorType: "TypeError" }, '{"errorType":"TypeError"}');
  // The prebuilt chunk header is the same frame encodeFrame makes.
  assert.deepEqual(chunk, encodeFrame({ op: "stream-chunk" }, Buffer.from("second ✓")));
  const frames = new FrameDecoder().push(Buffer.concat([start, chunk, end]));
  assert.deepEqual(
    frames.map((f) => [f.header, f.body.toString()]),
    [
      [{ op: "stream-start", requestId: "r-2", headers: { "content-type": "text/plain" } }, "first"],
      [{ op: "stream-chunk" }, "second ✓"],
      [{ op: "stream-end", errorType: "TypeError" }, '{"errorType":"TypeError"}'],
    ],
  );
});
