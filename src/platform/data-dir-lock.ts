/**
 * One platform per data directory. Two platforms on one directory would both run its async
 * queue, both prune its logs and both own its instances' directories: the second must refuse
 * to start, and say which platform holds the directory.
 *
 * The lock is SQLite's exclusive lock on a file of its own (`nimbus.lock`), held by an open
 * transaction for the platform's whole life. SQLite takes it with the kernel's record locks,
 * which the kernel drops when the process ends however it ends (`kill -9` included): a crashed
 * platform never leaves a stale lock for the next start to guess about, as a pid file would.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ENDPOINT_FILE } from "./private-data.js";

const LOCK_FILE = "nimbus.lock";
/** Who holds the lock, for the refusal's message (the lock file itself cannot be read then). */
const HOLDER_FILE = "nimbus.lock.holder";

/** Why the platform could not start: the message says what to do; the CLI exits with 3. */
export class PlatformStartError extends Error {
  readonly reason:
    | "data-dir-in-use"
    | "address-in-use"
    | "address-not-available"
    | "store-unavailable"
    | "store-in-use";
  constructor(reason: PlatformStartError["reason"], message: string) {
    super(message);
    this.name = "PlatformStartError";
    this.reason = reason;
  }
}

export interface DataDirLock {
  /** Gives the directory up (the process ending does too). */
  release(): void;
}

/** Takes `dataDir` for this process, or throws a PlatformStartError naming its holder. */
export function lockDataDir(dataDir: string): DataDirLock {
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== "SQLITE_BUSY") throw err;
    throw new PlatformStartError(
      "data-dir-in-use",
      `the data directory ${dataDir} is in use by another Nimbus platform${holder(dataDir)}: ` +
        "stop it first, or give this one another directory with --data",
    );
  }
  writeFileSync(join(dataDir, HOLDER_FILE), `${JSON.stringify({ pid: process.pid, since: new Date() })}\n`, {
    mode: 0o600,
  });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.exec("ROLLBACK");
      db.close();
    },
  };
}

/** " (pid 1234, http://127.0.0.1:3000)", from what the holder wrote, or "" when unknown. */
function holder(dataDir: string): string {
  const parts: string[] = [];
  try {
    const { pid } = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), "utf8")) as { pid?: unknown };
    if (typeof pid === "number") parts.push(`pid ${pid}`);
  } catch {
    // Not written yet, or by an older platform.
  }
  try {
    parts.push(readFileSync(join(dataDir, ENDPOINT_FILE), "utf8").trim());
  } catch {
    // Not listening yet.
  }
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}
