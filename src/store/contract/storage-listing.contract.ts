/**
 * What object storage's listings rely on from every store: keys in UTF-8 byte order (not
 * UTF-16's: U+FF61 before an emoji), a prefix taken literally (`%` and `_` are no wildcards,
 * multi-byte characters and U+10FFFF included), paging after a key that lands anywhere (before,
 * inside or past the prefix, or holding NUL), latest versions without delete markers, and every
 * version by key then newest first (the order of writes, not of ids), paged after a key and
 * version.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { StorageRepo } from "../../services/storage/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import { deleteMarker, ids, object, withBucket } from "./storage.contract.js";

/** Keys in UTF-8 byte order: ASCII punctuation, Latin, CJK, U+FF61, an emoji, U+10FFFF. */
const KEYS_IN_BYTE_ORDER = [
  " a",
  "a",
  "a b",
  "a%",
  "a%b",
  "a+b",
  "a/b",
  "a_b",
  "ab",
  "b",
  "é",
  "éa",
  "日本/x",
  "｡",
  "😀",
  "😀/1",
  "\u{10FFFF}",
  "\u{10FFFF}x",
];

/** The same keys as put: shuffled. */
const KEYS_SHUFFLED = [7, 15, 0, 12, 3, 17, 9, 1, 14, 5, 11, 16, 2, 8, 13, 4, 10, 6].map(
  (i) => KEYS_IN_BYTE_ORDER[i]!,
);

/** The keys of `repo`'s latest versions in "b" for the listing asked. */
async function latest(repo: StorageRepo, prefix: string, after?: string, limit = 100): Promise<string[]> {
  return (await repo.listLatest("b", { prefix, after, limit })).map((v) => v.key);
}

/** Every key, `limit` at a time, each page after the last key of the one before. */
async function pages(repo: StorageRepo, prefix: string, limit: number): Promise<string[][]> {
  const all: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = await latest(repo, prefix, after, limit);
    all.push(page);
    if (page.length < limit) return all;
    after = page.at(-1);
  }
}

export function storageListingContract(open: OpenRepo<StorageRepo>): void {
  test("latest versions list in byte order of key, delete markers left out, page by page after a key", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      for (const key of KEYS_SHUFFLED) await repo.putVersion(object("b", key, { versionId: "v1" }));
      await repo.putVersion(deleteMarker("b", "a b", "v2"));
      await repo.putVersion(object("b", "b", { versionId: "v2", size: 12, createdAt: T0_MS + 1 }));
      await repo.createBucket({
        name: "c",
        createdAt: T0_MS,
        versioning: "Unversioned",
        publicRead: false,
        settings: {},
      });
      await repo.putVersion(object("c", "a"));
      const shown = KEYS_IN_BYTE_ORDER.filter((k) => k !== "a b");
      assert.deepEqual(await latest(repo, ""), shown);
      const b = (await repo.listLatest("b", { prefix: "b", after: undefined, limit: 10 }))[0];
      assert.deepEqual(
        b,
        object("b", "b", { versionId: "v2", size: 12, createdAt: T0_MS + 1 }),
        "the latest, whole",
      );
      assert.deepEqual(await pages(repo, "", 4), [
        shown.slice(0, 4),
        shown.slice(4, 8),
        shown.slice(8, 12),
        shown.slice(12, 16),
        shown.slice(16),
      ]);
      assert.deepEqual((await pages(repo, "", 17)).flat(), shown);
      assert.deepEqual(await latest(repo, "", undefined, 0), []);
      assert.deepEqual(await latest(repo, "", "\u{10FFFF}x"), []);
    }));

  test("a prefix is taken literally: % and _ are no wildcards, multi-byte characters and U+10FFFF match by bytes", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      for (const key of KEYS_SHUFFLED) await repo.putVersion(object("b", key));
      assert.deepEqual(await latest(repo, "a%"), ["a%", "a%b"]);
      assert.deepEqual(await latest(repo, "a_"), ["a_b"]);
      assert.deepEqual(await latest(repo, "a"), ["a", "a b", "a%", "a%b", "a+b", "a/b", "a_b", "ab"]);
      assert.deepEqual(await latest(repo, "a "), ["a b"]);
      assert.deepEqual(await latest(repo, "é"), ["é", "éa"]);
      assert.deepEqual(await latest(repo, "日本/"), ["日本/x"]);
      assert.deepEqual(await latest(repo, "😀"), ["😀", "😀/1"]);
      assert.deepEqual(await latest(repo, "\u{10FFFF}"), ["\u{10FFFF}", "\u{10FFFF}x"]);
      assert.deepEqual(await latest(repo, "%"), []);
      assert.deepEqual(await latest(repo, "A"), []);
      assert.deepEqual(await pages(repo, "a", 3), [
        ["a", "a b", "a%"],
        ["a%b", "a+b", "a/b"],
        ["a_b", "ab"],
      ]);
    }));

  test("a listing after a key before, inside or past its prefix, or holding NUL, starts right after it", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      for (const key of KEYS_SHUFFLED) await repo.putVersion(object("b", key));
      assert.deepEqual(await latest(repo, "a", " z"), ["a", "a b", "a%", "a%b", "a+b", "a/b", "a_b", "ab"]);
      assert.deepEqual(await latest(repo, "a", "a"), ["a b", "a%", "a%b", "a+b", "a/b", "a_b", "ab"]);
      assert.deepEqual(await latest(repo, "a", "a/"), ["a/b", "a_b", "ab"]);
      assert.deepEqual(await latest(repo, "a%", "a%"), ["a%b"]);
      assert.deepEqual(await latest(repo, "a", "b"), []);
      assert.deepEqual(await latest(repo, "", "é"), KEYS_IN_BYTE_ORDER.slice(11));
      assert.deepEqual(
        await latest(repo, "", "｡"),
        KEYS_IN_BYTE_ORDER.slice(14),
        "an emoji is past U+FF61 in bytes",
      );
      assert.deepEqual(await latest(repo, "", "a\u0000z"), KEYS_IN_BYTE_ORDER.slice(2));
      assert.deepEqual(await latest(repo, "a", "a\u0000", 2), ["a b", "a%"]);
    }));

  test("versions list by key (bytes) then newest first, delete markers too, page by page after a key and version", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await repo.putVersion(object("b", "j"));
      await repo.putVersion(object("b", "k%"));
      await repo.setVersioning("b", "Enabled");
      // Ids in the opposite order of age.
      let at = T0_MS;
      for (const id of ["zz", "mm"])
        await repo.putVersion(object("b", "k", { versionId: id, createdAt: ++at }));
      await repo.putVersion(deleteMarker("b", "k", "aa", ++at));
      await repo.putVersion(object("b", "k/a", { versionId: "v1", createdAt: ++at }));
      await repo.putVersion(object("b", "l", { versionId: "v1", createdAt: ++at }));
      const list = async (prefix: string, afterKey?: string, afterVersionId?: string, limit = 100) =>
        ids(await repo.listVersions("b", { prefix, afterKey, afterVersionId, limit }));
      const all = ["j@null", "k@aa*", "k@mm", "k@zz", "k%@null", "k/a@v1", "l@v1"];
      assert.deepEqual(await list(""), all);
      assert.deepEqual(await list("", "k", "aa", 2), ["k@mm", "k@zz"]);
      assert.deepEqual(await list("", "k", "zz", 2), ["k%@null", "k/a@v1"]);
      assert.deepEqual(await list("", "k", "mm", 2), ["k@zz", "k%@null"]);
      assert.deepEqual(await list("", "k"), ["k%@null", "k/a@v1", "l@v1"], "after every version of the key");
      assert.deepEqual(await list("", "k", "gone"), ["k%@null", "k/a@v1", "l@v1"]);
      assert.deepEqual(await list("k"), ["k@aa*", "k@mm", "k@zz", "k%@null", "k/a@v1"]);
      assert.deepEqual(await list("k%"), ["k%@null"]);
      assert.deepEqual(await list("k/", "k", "aa"), ["k/a@v1"], "a marker outside the prefix");
      assert.deepEqual(await list("k", "k", "mm"), ["k@zz", "k%@null", "k/a@v1"]);
      // Page by page, each after the last of the page before.
      const seen: string[] = [];
      let marker: { key?: string; id?: string } = {};
      for (;;) {
        const page = await repo.listVersions("b", {
          prefix: "",
          afterKey: marker.key,
          afterVersionId: marker.id,
          limit: 2,
        });
        seen.push(...ids(page));
        const last = page.at(-1);
        if (!last) break;
        marker = { key: last.key, id: last.versionId };
      }
      assert.deepEqual(seen, all);
      const dm = (
        await repo.listVersions("b", {
          prefix: "k",
          afterKey: undefined,
          afterVersionId: undefined,
          limit: 1,
        })
      )[0];
      assert.deepEqual(dm, deleteMarker("b", "k", "aa", T0_MS + 3));
    }));
}
