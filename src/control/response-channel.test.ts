import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseChannel, StreamedInvocationError } from "./response-channel.js";

test("chunks reach the reader in order, and a failure only after every chunk written before it", async () => {
  const channel = new ResponseChannel();
  channel.start("text/plain");
  assert.equal(await channel.started, "text/plain");
  channel.write(Buffer.from("a"));
  channel.write(Buffer.from("b"));
  channel.end(new StreamedInvocationError("TypeError", "broke"));
  const reader = channel.body.getReader();
  assert.equal(Buffer.from((await reader.read()).value!).toString(), "a");
  assert.equal(Buffer.from((await reader.read()).value!).toString(), "b");
  await assert.rejects(reader.read(), {
    name: "StreamedInvocationError",
    errorType: "TypeError",
    message: "broke",
  });
});

test("a read waiting for a chunk gets it as it is written, and the end closes the body", async () => {
  const channel = new ResponseChannel();
  const reader = channel.body.getReader();
  const first = reader.read();
  channel.write(Buffer.from("late"));
  assert.equal(Buffer.from((await first).value!).toString(), "late");
  const last = reader.read();
  channel.end();
  assert.equal((await last).done, true);
});

test("a reader behind by the high-water mark holds the writer back until it reads", async () => {
  const channel = new ResponseChannel();
  const chunk = Buffer.alloc(16 * 1024);
  let accepted = 0;
  while (channel.write(chunk)) accepted++;
  assert.equal(accepted, 3, "64 KiB are held for a reader that has not read");
  let resumed = false;
  channel.whenReady(() => {
    resumed = true;
  });
  assert.equal(resumed, false);
  const reader = channel.body.getReader();
  await reader.read();
  assert.equal(resumed, true, "a read below the mark lets the writer go on");
  let atOnce = false;
  channel.whenReady(() => {
    atOnce = true;
  });
  assert.equal(atOnce, true);
});

test("a reader that cancels releases the writer, and later chunks are dropped", async () => {
  const channel = new ResponseChannel();
  while (channel.write(Buffer.alloc(32 * 1024)));
  let resumed = false;
  channel.whenReady(() => {
    resumed = true;
  });
  await channel.body.cancel();
  assert.equal(resumed, true);
  assert.equal(channel.write(Buffer.alloc(1024 * 1024)), true);
});
