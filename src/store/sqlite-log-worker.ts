/**
 * The thread that stores function logs (and the usage records of their REPORT lines): its own connection to the
 * platform's SQLite database (WAL lets the main connection read meanwhile). Inserting a few
 * hundred lines takes milliseconds; done on the main thread, that pause landed on whatever
 * request was waiting.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { batchWriter, type PackedBatch } from "./sqlite-writes.js";

/** Log rows and usage rows, packed (`packed-rows.ts`), stored in one transaction. */
export type WriterBatch = PackedBatch & { readonly id: number };

export type WriterAck = { readonly id: number; readonly error?: string };

const db = new Database((workerData as { path: string }).path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
const write = batchWriter(db);

parentPort!.on("message", (batch: WriterBatch | "close") => {
  if (batch === "close") {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    write(batch);
    parentPort!.postMessage({ id: batch.id } satisfies WriterAck);
  } catch (err) {
    parentPort!.postMessage({ id: batch.id, error: (err as Error).message } satisfies WriterAck);
  }
});
