/**
 * Lowers the calling thread's scheduling priority (its nice value), for a worker thread whose
 * work should yield to the event loop and the function instances when the cores are busy (the
 * log writer, password hashing). Linux gives each thread its own nice value, addressed by the id
 * `/proc/thread-self` links to; elsewhere nothing changes.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** This thread's kernel id and the nice value it now has (0: unchanged). */
export function lowerThisThread(nice: number): { tid: number | undefined; nice: number } {
  let tid: number | undefined;
  try {
    const id = Number(readlinkSync("/proc/thread-self").split("/").pop());
    tid = Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return { tid: undefined, nice: 0 };
  }
  // The main thread's id is the process's: lowering it would lower the whole process.
  if (tid === undefined || tid === process.pid || nice <= 0) return { tid, nice: 0 };
  try {
    setPriority(tid, nice);
    return { tid, nice };
  } catch {
    return { tid, nice: 0 };
  }
}
