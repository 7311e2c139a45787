import assert from "node:assert/strict";
import { test } from "node:test";
import { GroupCommit } from "./group-commit.js";

/** A commit that holds until released, recording each batch it was given. */
function held() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const commit = (items: readonly number[]) => {
    batches.push([...items]);
    if (items.includes(13)) return Promise.reject(new Error("13 is refused"));
    return new Promise<string[]>((resolve) => releases.push(() => resolve(items.map((n) => `#${n}`))));
  };
  return { batches, releases, commit };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test("a write alone commits at once; those that arrive meanwhile go together in the next commit", async () => {
  const h = held();
  const group = new GroupCommit<number, string>(h.commit);
  const first = group.submit(1);
  assert.deepEqual(h.batches, [[1]], "no wait when nothing is in flight");
  const rest = [group.submit(2), group.submit(3), group.submit(4)];
  await tick();
  assert.deepEqual(h.batches, [[1]], "they wait for the commit in flight");
  h.releases.shift()!();
  assert.equal(await first, "#1");
  await tick();
  assert.deepEqual(h.batches, [[1], [2, 3, 4]]);
  h.releases.shift()!();
  assert.deepEqual(await Promise.all(rest), ["#2", "#3", "#4"]);
});

test("a batch is at most `max` writes", async () => {
  const h = held();
  const group = new GroupCommit<number, string>(h.commit, 2);
  const all = [1, 2, 3, 4, 5].map((n) => group.submit(n));
  for (let i = 0; i < 3; i++) {
    await tick();
    h.releases.shift()!();
  }
  assert.deepEqual(await Promise.all(all), ["#1", "#2", "#3", "#4", "#5"]);
  assert.deepEqual(h.batches, [[1], [2, 3], [4, 5]]);
});

test("a failed batch is retried write by write: only the bad write fails, and nothing resolves before its commit", async () => {
  const h = held();
  const group = new GroupCommit<number, string>(h.commit);
  const first = group.submit(1);
  const others = [group.submit(12), group.submit(13), group.submit(14)].map((p) =>
    p.then(
      (v) => v,
      (e: Error) => e.message,
    ),
  );
  h.releases.shift()!();
  await first;
  await tick();
  assert.deepEqual(h.batches.slice(0, 2), [[1], [12, 13, 14]]);
  // The batch failed; each is tried alone.
  await tick();
  assert.deepEqual(h.batches.slice(2), [[12], [13], [14]]);
  for (const release of h.releases.splice(0)) release();
  assert.deepEqual(await Promise.all(others), ["#12", "13 is refused", "#14"]);
});
