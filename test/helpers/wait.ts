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

/** Polls `condition` every 10 ms, failing the test after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  for (let waited = 0; waited < timeoutMs && !(await condition()); waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(await condition(), `condition not reached within ${timeoutMs} ms`);
}
