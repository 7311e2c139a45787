import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBlock, type SseEvent, sseEvents } from "./sse.js";

async function* arriving(...parts: string[]) {
  for (const p of parts) yield new TextEncoder().encode(p);
}

async function all(body: AsyncIterable<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of sseEvents(body)) out.push(e);
  return out;
}

test("events arrive whole however the bytes are cut, comments skipped, CRLF taken as LF", async () => {
  const text =
    ': tailing default\n\nevent: event\ndata: {"a":1}\n\nevent: dropped\r\ndata: {"dropped":3}\r\n\r\n';
  const whole = await all(arriving(text));
  const cuts = await all(arriving(...text.split("")));
  const expected = [
    { event: "event", data: '{"a":1}' },
    { event: "dropped", data: '{"dropped":3}' },
  ];
  assert.deepEqual(whole, expected);
  assert.deepEqual(cuts, expected);
});

test("a block's data lines are joined; an event without a name is a message; no data, no event", () => {
  assert.deepEqual(parseBlock("data: one\ndata:two"), { event: "message", data: "one\ntwo" });
  assert.deepEqual(parseBlock("event: log\nid: 3\ndata: x"), { event: "log", data: "x" });
  assert.equal(parseBlock(": keep-alive"), undefined);
  assert.equal(parseBlock("event: ping"), undefined);
});

test("an unfinished last block is not given out", async () => {
  assert.deepEqual(await all(arriving("data: done\n\ndata: cut")), [{ event: "message", data: "done" }]);
});
