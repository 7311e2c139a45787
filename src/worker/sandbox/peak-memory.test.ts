import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { PeakMemory } from "./peak-memory.js";

/** A child that allocates `mb` of touched memory when it reads a line, then frees it. */
function allocator() {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `process.stdin.on("data", (d) => { let b = Buffer.alloc(Number(d) * 1048576, 1); b = null; process.stdout.write("ok\\n"); });`,
    ],
    { env: {}, stdio: ["pipe", "pipe", "inherit"] },
  );
  return {
    async alloc(mb: number) {
      child.stdin.write(`${mb}\n`);
      await once(child.stdout, "data");
    },
    child,
  };
}

test("the peak follows the process's growth and is kept after close", async () => {
  const a = allocator();
  let now = 0;
  const peak = new PeakMemory(a.child.pid!, () => now);
  try {
    await a.alloc(0);
    const base = peak.mb();
    assert.ok(base !== undefined && base > 10, `a node process has a peak above 10 MB, got ${base}`);
    // Resident memory above the known peak: read at once.
    a.child.stdin.write("64\n");
    await once(a.child.stdout, "data");
    const grown = peak.mb()!;
    assert.ok(grown >= base + 60, `after 64 MB more, expected ≥ ${base + 60} MB, got ${grown}`);
    await a.alloc(200);
    now += 100;
    const refreshed = peak.mb()!;
    assert.ok(refreshed >= grown + 100, `after 200 MB more, expected ≥ ${grown + 100} MB, got ${refreshed}`);
  } finally {
    a.child.kill("SIGKILL");
    await once(a.child, "exit");
  }
  const last = peak.mb();
  peak.close();
  assert.equal(peak.mb(), last, "after close, the last peak is kept");
});

test("a process that does not exist has no peak", () => {
  const peak = new PeakMemory(2 ** 22 + 12345);
  assert.equal(peak.mb(), undefined);
  peak.close();
});
