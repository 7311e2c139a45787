/**
 * A thread of `password-thread.ts`: it lowers its own scheduling priority (Linux gives each
 * thread its own nice value), then runs the argon2id hashes it is sent, one at a time, and
 * answers each with its result or its error.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { hashSync, verifySync } from "@node-rs/argon2";
import type { HashReply, HashRequest } from "./password-thread.js";

const port = parentPort!;
const { nice } = workerData as { nice: number };

/** This thread's id (`/proc/thread-self` links to `<pid>/task/<tid>`), or undefined off Linux. */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

const tid = threadId();
let niced = false;
if (tid !== undefined && nice > 0) {
  try {
    setPriority(tid, nice);
    niced = true;
  } catch {
    // Kept at the process's priority: hashing still leaves the event loop alone.
  }
}
port.postMessage({ op: "started", tid, nice: niced ? nice : 0 } satisfies HashReply);

port.on("message", (req: HashRequest) => {
  try {
    const result =
      req.op === "hash"
        ? hashSync(req.password, { ...req.options, salt: req.salt })
        : verifySync(req.stored, req.password);
    port.postMessage({ op: "done", id: req.id, result } satisfies HashReply);
  } catch (err) {
    port.postMessage({ op: "failed", id: req.id, error: (err as Error).message } satisfies HashReply);
  }
});
