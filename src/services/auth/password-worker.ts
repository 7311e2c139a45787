/**
 * A thread of `password-thread.ts`: it lowers its own scheduling priority, then runs the
 * argon2id hashes it is sent, one at a time, answering each by its id (`shared/thread-rpc.ts`).
 */
import { parentPort, workerData } from "node:worker_threads";
import { hashSync, verifySync } from "@node-rs/argon2";
import { lowerThisThread } from "../../shared/thread-priority.js";
import type { ThreadReply } from "../../shared/thread-rpc.js";
import type { HashRequest } from "./password-thread.js";

const port = parentPort!;
const priority = lowerThisThread((workerData as { nice: number }).nice);

port.on("message", (req: HashRequest & { readonly id: number }) => {
  let reply: ThreadReply;
  try {
    const value =
      req.op === "hash"
        ? hashSync(req.password, { ...req.options, salt: req.salt })
        : req.op === "verify"
          ? verifySync(req.stored, req.password)
          : priority;
    reply = { id: req.id, value };
  } catch (err) {
    reply = { id: req.id, error: (err as Error).message };
  }
  port.postMessage(reply);
});
