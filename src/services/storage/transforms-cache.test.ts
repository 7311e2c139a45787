import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type Variant, VariantCache } from "./transforms-cache.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-variants-"));
  dirs.push(dir);
  return dir;
}

const key = (n: number) => n.toString(16).padStart(64, "0");
const variant = (size: number, fill = 1): Variant => ({ bytes: Buffer.alloc(size, fill), format: "webp" });

/** A maker that counts its calls. */
function maker(v: Variant) {
  const made = { count: 0 };
  const make = async () => {
    made.count++;
    return v;
  };
  return { made, make };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const shard of await readdir(dir)) out.push(...(await readdir(join(dir, shard))));
  return out.sort();
}

describe("the variant cache", () => {
  test("a miss makes the variant and keeps it; the next get is a hit with the same bytes, made once", async () => {
    const dir = await cacheDir();
    const cache = new VariantCache({ dir, maxBytes: 1000, log: () => {} });
    const { made, make } = maker(variant(10, 7));
    const first = await cache.get(key(1), make);
    const second = await cache.get(key(1), make);
    assert.deepEqual([first.hit, second.hit, made.count], [false, true, 1]);
    assert.deepEqual(second.variant, first.variant);
    assert.deepEqual(await files(dir), [`${key(1)}.webp`]);
    assert.equal(cache.bytes, 10);
  });

  test("concurrent gets of one key share one transform", async () => {
    const cache = new VariantCache({ dir: await cacheDir(), maxBytes: 1000, log: () => {} });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started: () => void = () => {};
    const making = new Promise<void>((r) => {
      started = r;
    });
    let made = 0;
    const make = async () => {
      made++;
      started();
      await gate;
      return variant(5);
    };
    const gets = [cache.get(key(2), make), cache.get(key(2), make), cache.get(key(2), make)];
    await making;
    release();
    const answers = await Promise.all(gets);
    assert.equal(made, 1);
    assert.deepEqual(
      answers.map((a) => a.hit),
      [false, true, true],
    );
  });

  test("past its budget the least recently used variants go first; a hit counts as a use", async () => {
    const dir = await cacheDir();
    const cache = new VariantCache({ dir, maxBytes: 30, log: () => {} });
    for (const n of [1, 2, 3]) await cache.get(key(n), maker(variant(10, n)).make);
    // 1 is used again: 2 is now the least recent.
    assert.equal((await cache.get(key(1), maker(variant(10)).make)).hit, true);
    await cache.get(key(4), maker(variant(10, 4)).make);
    assert.deepEqual(
      await files(dir),
      [key(1), key(3), key(4)].map((k) => `${k}.webp`),
    );
    assert.equal(cache.bytes, 30);
    const again = maker(variant(10, 2));
    assert.equal((await cache.get(key(2), again.make)).hit, false);
    assert.equal(again.made.count, 1);
  });

  test("a variant larger than the whole budget is served, not kept; a budget of 0 keeps nothing", async () => {
    const dir = await cacheDir();
    const cache = new VariantCache({ dir, maxBytes: 8, log: () => {} });
    const big = await cache.get(key(5), maker(variant(9)).make);
    assert.equal(big.variant.bytes.length, 9);
    assert.deepEqual(await files(dir), []);
    const none = new VariantCache({ dir: await cacheDir(), maxBytes: 0, log: () => {} });
    const { made, make } = maker(variant(1));
    await none.get(key(6), make);
    await none.get(key(6), make);
    assert.equal(made.count, 2);
  });

  test("after a restart the variants on disk are hits, and temporary files a crash left are removed", async () => {
    const dir = await cacheDir();
    const before = new VariantCache({ dir, maxBytes: 100, log: () => {} });
    await before.get(key(7), maker({ bytes: Buffer.from("png bytes"), format: "png" }).make);
    await mkdir(join(dir, "ab"), { recursive: true });
    await writeFile(join(dir, "ab", `${"ab".padEnd(64, "0")}.png.tmp-123456`), "half");
    const after = new VariantCache({ dir, maxBytes: 100, log: () => {} });
    const { made, make } = maker(variant(1));
    const got = await after.get(key(7), make);
    assert.deepEqual(
      [got.hit, got.variant.format, got.variant.bytes.toString(), made.count],
      [true, "png", "png bytes", 0],
    );
    assert.deepEqual(await files(dir), [`${key(7)}.png`]);
    assert.equal(after.bytes, 9);
  });

  test("a variant removed from disk behind the cache's back is made again", async () => {
    const dir = await cacheDir();
    const cache = new VariantCache({ dir, maxBytes: 100, log: () => {} });
    await cache.get(key(8), maker(variant(3)).make);
    await rm(join(dir, key(8).slice(0, 2), `${key(8)}.webp`));
    const { made, make } = maker(variant(3));
    assert.equal((await cache.get(key(8), make)).hit, false);
    assert.equal(made.count, 1);
    assert.equal(cache.bytes, 3);
  });

  test("a transform that fails fails each caller waiting on it, and the next get tries again", async () => {
    const cache = new VariantCache({ dir: await cacheDir(), maxBytes: 100, log: () => {} });
    const failing = async (): Promise<Variant> => {
      throw new Error("not an image");
    };
    await assert.rejects(
      Promise.all([cache.get(key(9), failing), cache.get(key(9), failing)]),
      /not an image/,
    );
    assert.equal((await cache.get(key(9), maker(variant(2)).make)).hit, false);
  });
});
