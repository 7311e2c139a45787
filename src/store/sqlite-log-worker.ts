/**
 * The thread that stores function logs: its own connection to the platform's SQLite database
 * (WAL lets the main connection read meanwhile). Inserting a few hundred lines takes
 * milliseconds; done on the main thread, that pause landed on whatever request was waiting.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { LogEntry } from "../protocol/invoke.js";

export interface LogBatch {
  readonly id: number;
  readonly entries: readonly LogEntry[];
}

export type LogAck = { readonly id: number; readonly error?: string };

const db = new Database((workerData as { path: string }).path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
/** Rows per INSERT statement: one statement per row spent more in binding calls than in SQLite. */
const ROWS_PER_INSERT = 32;
const insertSql = (rows: number) =>
  `INSERT INTO logs (function_name, version, instance_id, request_id, ts, message) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`;
const insertOne = db.prepare(insertSql(1));
const insertMany = db.prepare(insertSql(ROWS_PER_INSERT));
const appendAll = db.transaction((entries: readonly LogEntry[]) => {
  const values: (string | number | null)[] = [];
  let i = 0;
  for (; i + ROWS_PER_INSERT <= entries.length; i += ROWS_PER_INSERT) {
    values.length = 0;
    for (let j = i; j < i + ROWS_PER_INSERT; j++) {
      const e = entries[j]!;
      values.push(e.functionName, e.version, e.instanceId, e.requestId ?? null, e.timestamp, e.message);
    }
    insertMany.run(values);
  }
  for (; i < entries.length; i++) {
    const e = entries[i]!;
    insertOne.run(e.functionName, e.version, e.instanceId, e.requestId ?? null, e.timestamp, e.message);
  }
});

parentPort!.on("message", (batch: LogBatch | "close") => {
  if (batch === "close") {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    appendAll(batch.entries);
    parentPort!.postMessage({ id: batch.id } satisfies LogAck);
  } catch (err) {
    parentPort!.postMessage({ id: batch.id, error: (err as Error).message } satisfies LogAck);
  }
});
