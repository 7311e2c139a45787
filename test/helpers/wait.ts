/** Small waits for end-to-end tests: whether a process lives, and polling for a condition. */
import assert from "node:assert/strict";

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const SLACK = process.env.CI ? 4 : 1;

/**
 * Reads until `done` holds for what it read, and returns that; fails the test after
 * `timeoutMs` with `what` and the last value read. For what runs for real (invocations,
 * processes); time the platform's clock controls is advanced instead (`FakeClock.settle`).
 * Under CI (`CI` set) every wait is four times longer: a shared CI machine running the
 * PostgreSQL and SQLite suites side by side has stalled a 17-hop async chain past 6 s. A wait
 * that succeeds returns as soon as it does, so the slack costs nothing when the test passes.
 */
export async function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  o: { what: string; timeoutMs?: number; everyMs?: number },
): Promise<T> {
  const timeoutMs = (o.timeoutMs ?? 3000) * SLACK;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      assert.fail(`${o.what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 10));
  }
}

/** Polls `condition` every 10 ms, failing the test after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  await eventually(condition, (ok) => ok, { what: "condition", timeoutMs });
}
