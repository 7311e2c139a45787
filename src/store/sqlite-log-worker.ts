/**
 * The thread that stores function logs (and the usage records of their REPORT lines): its own connection to the
 * platform's SQLite database (WAL lets the main connection read meanwhile). Inserting a few
 * hundred lines takes milliseconds; done on the main thread, that pause landed on whatever
 * request was waiting.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { lowerThisThread } from "../shared/thread-priority.js";
import type { ThreadReply } from "../shared/thread-rpc.js";
import { batchWriter, type PackedBatch } from "./sqlite-writes.js";

/**
 * What the store asks its log writer (sent with an `id`, `thread-rpc.ts`): log rows and usage
 * rows, packed (`packed-rows.ts`), stored in one transaction; or to close.
 */
export type WriterRequest = PackedBatch | { readonly op: "close" };

/**
 * A batch of a few hundred rows holds a core for milliseconds every 100 ms: at normal priority
 * it took the core from a request in flight, which waited that long (the p99 of a warm call).
 * At nice 10 the thread yields to the platform's request path and to the instances, and uses
 * the time they leave.
 */
lowerThisThread(10);

const db = new Database((workerData as { path: string }).path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
const write = batchWriter(db);

/**
 * Checkpoints, for the main connection, which leaves them to this thread (`sqlite.ts`): copying
 * the WAL back into the database writes and syncs hundreds of pages, which on the main thread
 * cost every write ~70 µs on average and paused the event loop ~10 ms every thousand pages.
 * PASSIVE: it never waits on a writer, nor makes one wait.
 */
export const CHECKPOINT_EVERY_MS = 100;
const checkpoints = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy (another connection checkpointing): the next tick tries again.
  }
}, CHECKPOINT_EVERY_MS);

parentPort!.on("message", (req: WriterRequest & { readonly id: number }) => {
  try {
    if ("op" in req) {
      clearInterval(checkpoints);
      db.close();
      reply({ id: req.id });
      parentPort!.close();
      return;
    }
    write(req);
    reply({ id: req.id });
  } catch (err) {
    reply({ id: req.id, error: (err as Error).message });
  }
});

function reply(r: ThreadReply): void {
  parentPort!.postMessage(r);
}
