/**
 * Unprivileged uids for sandboxes, one per instance, when the platform runs as root: a sandbox's
 * processes then cannot signal, trace or write over another's, nor the platform's.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";

/** First uid handed to instances (well above any login account). */
export const SANDBOX_UID_BASE = 200_000;
const SANDBOX_UID_COUNT = 50_000;
/** Uids other processes on the host run as, from a /proc scan at most this old. */
const UID_SCAN_MAX_AGE_MS = 1000;

export class UidAllocator {
  #next = Math.floor(Math.random() * SANDBOX_UID_COUNT);
  /** Uids handed out and not yet released. */
  readonly #held = new Set<number>();
  #scanned: { readonly at: number; readonly uids: ReadonlySet<number> } | undefined;

  /**
   * A uid no running process has: other Nimbus platforms on the host (a test run beside a dev
   * server) draw from the same range, so each starts at a random point and skips uids in use.
   * Its own are known; others' come from a scan of /proc (~1 ms with a hundred processes)
   * reused for a second, so that a burst of sandbox starts does not scan once each. A uid is
   * handed out again only after the cursor has gone round all 50,000.
   */
  allocate(): number {
    const now = performance.now();
    if (!this.#scanned || now - this.#scanned.at > UID_SCAN_MAX_AGE_MS)
      this.#scanned = { at: now, uids: new Set(processOwners().map(([, uid]) => uid)) };
    const others = this.#scanned.uids;
    for (let i = 0; i < SANDBOX_UID_COUNT; i++) {
      const uid = SANDBOX_UID_BASE + (this.#next++ % SANDBOX_UID_COUNT);
      if (this.#held.has(uid) || others.has(uid)) continue;
      this.#held.add(uid);
      return uid;
    }
    throw new Error(`all ${SANDBOX_UID_COUNT} sandbox uids are in use`);
  }

  release(uid: number): void {
    this.#held.delete(uid);
  }
}

/** Process ids and their owners (the owner of /proc/<pid> is the process's effective uid). */
export function processOwners(): Array<[pid: number, uid: number]> {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: Array<[number, number]> = [];
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      out.push([Number(e), statSync(`/proc/${e}`).uid]);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** SIGKILLs every process owned by `uid`; returns how many there were. */
export function killAllOf(uid: number): number {
  let n = 0;
  for (const [pid, owner] of processOwners()) {
    if (owner !== uid) continue;
    n++;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  return n;
}

/** Every process started under `pid`, from the kernel's per-thread children lists. */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text = "";
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, "latin1");
      } catch {
        // The thread is gone.
      }
      for (const c of text.split(" ")) {
        if (!c.trim()) continue;
        found.push(Number(c));
        queue.push(Number(c));
      }
    }
  }
  return found;
}

/** Whether a process exists and has not yet ended (a zombie has ended; only its entry is left). */
export function running(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return false;
  }
  const close = stat.lastIndexOf(")");
  return stat.slice(close + 2, close + 3) !== "Z";
}

/**
 * Resolves once none of `pids` is running, or after `limitMs`. A process sent SIGKILL takes a
 * while to end when it holds much memory (the kernel frees it first): a sandbox is over only
 * when its memory is back.
 */
export async function ended(pids: Iterable<number>, limitMs: number): Promise<void> {
  let left = [...pids].filter(running);
  const until = Date.now() + limitMs;
  while (left.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    left = left.filter(running);
  }
}
