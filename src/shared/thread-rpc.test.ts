/** Calls into a worker thread: answers by id, errors, a thread that dies, closing. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { ThreadRpc } from "./thread-rpc.js";

type Request =
  | { readonly op: "echo"; readonly value: unknown }
  | { readonly op: "later"; readonly value: unknown }
  | { readonly op: "fail" }
  | { readonly op: "sum"; readonly bytes: Uint8Array }
  | { readonly op: "crash" }
  | { readonly op: "exit" }
  | { readonly op: "close" };

/**
 * A thread speaking the protocol: "later" is answered after the next request (out of order),
 * "sum" adds the bytes it was handed, "crash" throws out of the thread, "exit" ends it.
 */
const THREAD = `
const { parentPort } = require("node:worker_threads");
let held;
parentPort.on("message", (req) => {
  const reply = (r) => parentPort.postMessage(r);
  if (req.op === "later") { held = req; return; }
  if (req.op === "echo") reply({ id: req.id, value: req.value });
  if (req.op === "fail") reply({ id: req.id, error: "no such thing" });
  if (req.op === "sum") reply({ id: req.id, value: req.bytes.reduce((a, b) => a + b, 0) });
  if (req.op === "crash") return setImmediate(() => { throw new Error("the thread fell over"); });
  if (req.op === "exit") process.exit(3);
  if (req.op === "close") { reply({ id: req.id }); parentPort.close(); }
  if (held) { reply({ id: held.id, value: held.value }); held = undefined; }
});`;

function thread(): { rpc: ThreadRpc<Request>; worker: Worker } {
  const worker = new Worker(THREAD, { eval: true });
  return { rpc: new ThreadRpc<Request>(worker, "test thread"), worker };
}

test("each call settles with the thread's answer to it, whatever the order of the answers", async () => {
  const { rpc } = thread();
  const first = rpc.call({ op: "later", value: "first" });
  const second = rpc.call({ op: "echo", value: { n: 2 } });
  assert.deepEqual(await Promise.all([first, second]), ["first", { n: 2 }]);
  await rpc.close({ op: "close" });
});

test("an error answer rejects its call with the thread's name and message; later calls still work", async () => {
  const { rpc } = thread();
  await assert.rejects(rpc.call({ op: "fail" }), { message: "test thread: no such thing" });
  assert.equal(await rpc.call({ op: "echo", value: 1 }), 1);
  await rpc.close({ op: "close" });
});

test("transferred buffers move to the thread", async () => {
  const { rpc } = thread();
  const bytes = new Uint8Array([1, 2, 3]);
  assert.equal(await rpc.call({ op: "sum", bytes }, [bytes.buffer]), 6);
  assert.equal(bytes.byteLength, 0, "the buffer now belongs to the thread");
  await rpc.close({ op: "close" });
});

test("a thread that dies fails the calls waiting on it and every later one, instead of leaving them waiting", async () => {
  const { rpc, worker } = thread();
  const waiting = rpc.call({ op: "later", value: "never answered" });
  const exited = new Promise((r) => worker.once("exit", r));
  void rpc.call({ op: "crash" }).catch(() => {});
  await assert.rejects(waiting, /the thread fell over/);
  await exited;
  await assert.rejects(rpc.call({ op: "echo", value: 1 }), /the thread fell over/);
  await rpc.close({ op: "close" });
});

test("close waits for the thread to exit, and its exit is no failure", async () => {
  const { rpc, worker } = thread();
  let exitCode: number | undefined;
  worker.once("exit", (code) => {
    exitCode = code;
  });
  await rpc.close({ op: "close" });
  assert.equal(exitCode, 0);
});

test("a thread that stops on its own fails later calls with its exit code", async () => {
  const { rpc, worker } = thread();
  const exited = new Promise((r) => worker.once("exit", r));
  const waiting = rpc.call({ op: "later", value: "never answered" });
  await assert.rejects(rpc.call({ op: "exit" }), {
    message: "test thread: its thread stopped (exit code 3)",
  });
  await assert.rejects(waiting, /exit code 3/);
  await exited;
  await assert.rejects(rpc.call({ op: "echo", value: 1 }), /exit code 3/);
});

test("terminate stops the thread at once: a call in flight fails, later calls fail, the exit is no error", async () => {
  const { rpc, worker } = thread();
  const exited = new Promise<number>((r) => worker.once("exit", r));
  const held = assert.rejects(rpc.call({ op: "later", value: "never answered" }), {
    message: "the thread was stopped",
  });
  await rpc.terminate();
  await held;
  await exited;
  assert.equal(rpc.failed, true);
  await assert.rejects(rpc.call({ op: "echo", value: 1 }), { message: "the thread was stopped" });
});
