import assert from "node:assert/strict";
import { test } from "node:test";
import { PreludeError, splitHttpIntegrationPrelude } from "./response-stream.js";

function streamOf(...chunks: (string | Buffer)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(Buffer.from(c));
      controller.close();
    },
  });
}

async function text(body: ReadableStream<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return Buffer.concat(parts).toString();
}

const NUL8 = Buffer.alloc(8);

test("the prelude is read up to its 8 NUL bytes, wherever the chunks break, and the rest is the body", async () => {
  const prelude = { statusCode: 201, headers: { "content-type": "text/html" }, cookies: ["a=1"] };
  const whole = Buffer.concat([Buffer.from(JSON.stringify(prelude)), NUL8, Buffer.from("<p>hi</p>")]);
  for (let cut = 1; cut < whole.length; cut++) {
    const split = await splitHttpIntegrationPrelude(
      streamOf(whole.subarray(0, cut), whole.subarray(cut, cut + 3), whole.subarray(cut + 3)),
    );
    assert.deepEqual(split.prelude, prelude);
    assert.equal(await text(split.body), "<p>hi</p>");
  }
});

test("a body may hold NUL bytes itself, and may be empty", async () => {
  const split = await splitHttpIntegrationPrelude(streamOf('{"statusCode":200}', NUL8, NUL8, "x"));
  assert.deepEqual(split.prelude, { statusCode: 200 });
  assert.equal(await text(split.body), `${"\0".repeat(8)}x`);
  const empty = await splitHttpIntegrationPrelude(streamOf("{}", NUL8));
  assert.deepEqual(empty.prelude, {});
  assert.equal(await text(empty.body), "");
});

test("a response without a valid prelude is refused with a PreludeError saying why", async () => {
  await assert.rejects(splitHttpIntegrationPrelude(streamOf('{"statusCode":200}')), PreludeError);
  await assert.rejects(splitHttpIntegrationPrelude(streamOf("not json", NUL8)), /not JSON/);
  await assert.rejects(splitHttpIntegrationPrelude(streamOf("[1]", NUL8)), /must be a JSON object/);
  await assert.rejects(splitHttpIntegrationPrelude(streamOf('{"statusCode":"ok"}', NUL8)), /statusCode/);
  await assert.rejects(splitHttpIntegrationPrelude(streamOf('{"headers":{"a":1}}', NUL8)), /headers/);
  await assert.rejects(splitHttpIntegrationPrelude(streamOf('{"cookies":"a=1"}', NUL8)), /cookies/);
  await assert.rejects(
    splitHttpIntegrationPrelude(streamOf("x".repeat(100), NUL8), 64),
    /longer than 64 bytes/,
  );
});

test("a stream that fails before its prelude ends rejects with the stream's own error", async () => {
  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(Buffer.from('{"statusCode"'));
      controller.error(new Error("the function failed"));
    },
  });
  await assert.rejects(splitHttpIntegrationPrelude(failing), /the function failed/);
});
