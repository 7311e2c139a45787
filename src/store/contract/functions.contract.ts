/** What the registry relies on from every store of functions, versions and aliases. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionsRepo } from "../../control/registry/repo.js";
import { LATEST } from "../../protocol/function.js";
import type { FunctionSandbox } from "../../protocol/sandbox.js";
import { alias, type OpenRepo, published, T0_MS, version, withRepo } from "./harness.js";

export function functionsContract(open: OpenRepo<FunctionsRepo>): void {
  test("a created function reads back with its $LATEST version, field for field", () =>
    withRepo(open, async ({ repo }) => {
      const latest = version("resize", {
        description: 'quotes " \\ and a NUL \u0000, accents é, emoji 🦆',
        environment: { NUL: "a\u0000b", JSON: '{"k":[1,2]}', EMPTY: "" },
      });
      assert.equal(await repo.createFunction(latest, T0_MS), true);
      assert.deepEqual(await repo.getFunction("resize"), {
        name: "resize",
        reservedConcurrency: undefined,
        createdAt: T0_MS,
        lastVersion: 0,
      });
      assert.deepEqual(await repo.getVersion("resize", LATEST), latest);
      assert.deepEqual(await repo.listVersions("resize"), [latest]);
    }));

  test("a function or version that does not exist reads as undefined", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("a"), T0_MS);
      assert.equal(await repo.getFunction("b"), undefined);
      assert.equal(await repo.getVersion("a", "1"), undefined);
      assert.equal(await repo.getVersion("b", LATEST), undefined);
      assert.deepEqual(await repo.listVersions("b"), []);
    }));

  test("functions are listed in byte order of their names, a page at a time after a name", () =>
    withRepo(open, async ({ repo }) => {
      for (const name of ["b", "a_1", "B", "a", "a-1", "10", "A", "9"])
        await repo.createFunction(version(name), T0_MS);
      const order = ["10", "9", "A", "B", "a", "a-1", "a_1", "b"];
      const all = await repo.listFunctions(undefined, 100);
      assert.deepEqual(
        all.map((f) => f.name),
        order,
      );
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await repo.listFunctions(after, 3);
        pages.push(page.map((f) => f.name));
        if (page.length < 3) break;
        after = page[page.length - 1]!.name;
      }
      assert.deepEqual(pages, [order.slice(0, 3), order.slice(3, 6), order.slice(6)]);
    }));

  test("creating a function whose name is taken is refused and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const first = version("fn");
      assert.equal(await repo.createFunction(first, T0_MS), true);
      assert.equal(await repo.createFunction(version("fn", { handler: "other.handler" }), T0_MS + 1), false);
      assert.equal((await repo.getFunction("fn"))?.createdAt, T0_MS);
      assert.deepEqual(await repo.getVersion("fn", LATEST), first);
    }));

  test("of concurrent creates of one name, exactly one succeeds", () =>
    withRepo(open, async ({ repo }) => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          repo.createFunction(version("fn", { revisionId: `r${i}` }), T0_MS),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await repo.getVersion("fn", LATEST))?.revisionId, `r${winner}`);
    }));

  test("$LATEST is replaced only while its revision is the one the caller read", () =>
    withRepo(open, async ({ repo }) => {
      const v1 = version("fn");
      await repo.createFunction(v1, T0_MS);
      const v2 = version("fn", { revisionId: "rev-2", packageId: "pkg-2", memoryMb: 512 });
      assert.equal(await repo.replaceLatest(v2, v1.revisionId), true);
      const stale = version("fn", { revisionId: "rev-3", timeoutS: 60 });
      assert.equal(await repo.replaceLatest(stale, v1.revisionId), false, "a stale revision is refused");
      assert.deepEqual(await repo.getVersion("fn", LATEST), v2);
      assert.equal(await repo.replaceLatest(version("ghost"), "rev-ghost-1"), false);
    }));

  test("of concurrent replacements from one revision, exactly one wins", () =>
    withRepo(open, async ({ repo }) => {
      const v1 = version("fn");
      await repo.createFunction(v1, T0_MS);
      const nexts = Array.from({ length: 6 }, (_, i) => version("fn", { revisionId: `next-${i}` }));
      const results = await Promise.all(nexts.map((n) => repo.replaceLatest(n, v1.revisionId)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await repo.getVersion("fn", LATEST), nexts[results.indexOf(true)]);
    }));

  test("published versions are numbered 1, 2, 3… and listed after $LATEST in number order", () =>
    withRepo(open, async ({ repo }) => {
      const latest = version("fn");
      await repo.createFunction(latest, T0_MS);
      const numbers: string[] = [];
      for (let i = 0; i < 11; i++) numbers.push((await repo.publishVersion("fn", published(latest))).version);
      const expected = Array.from({ length: 11 }, (_, i) => String(i + 1));
      assert.deepEqual(numbers, expected);
      assert.deepEqual(await repo.getVersion("fn", "10"), published(latest)(10));
      assert.deepEqual(
        (await repo.listVersions("fn")).map((v) => v.version),
        [LATEST, ...expected],
      );
      assert.equal((await repo.getFunction("fn"))?.lastVersion, 11);
    }));

  test("concurrent publishes get distinct numbers, with no gap", () =>
    withRepo(open, async ({ repo }) => {
      const latest = version("fn");
      await repo.createFunction(latest, T0_MS);
      const got = await Promise.all(
        Array.from({ length: 8 }, () => repo.publishVersion("fn", published(latest))),
      );
      assert.deepEqual(
        got.map((v) => Number(v.version)).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal((await repo.listVersions("fn")).length, 9);
      assert.equal((await repo.getFunction("fn"))?.lastVersion, 8);
    }));

  test("publishing a function that does not exist fails", () =>
    withRepo(open, async ({ repo }) => {
      await assert.rejects(repo.publishVersion("ghost", published(version("ghost"))));
    }));

  test("a deleted version is gone and its number is not given again", () =>
    withRepo(open, async ({ repo }) => {
      const latest = version("fn");
      await repo.createFunction(latest, T0_MS);
      await repo.publishVersion("fn", published(latest));
      await repo.publishVersion("fn", published(latest));
      await repo.deleteVersion("fn", "2");
      assert.equal(await repo.getVersion("fn", "2"), undefined);
      assert.equal((await repo.publishVersion("fn", published(latest))).version, "3");
      assert.deepEqual(
        (await repo.listVersions("fn")).map((v) => v.version),
        [LATEST, "1", "3"],
      );
    }));

  test("deleting a function deletes its versions and aliases; its name starts afresh", () =>
    withRepo(open, async ({ repo }) => {
      const latest = version("fn");
      await repo.createFunction(latest, T0_MS);
      await repo.publishVersion("fn", published(latest));
      await repo.putAlias(alias("fn", "live"), null);
      await repo.createFunction(version("other"), T0_MS);
      assert.equal(await repo.deleteFunction("fn"), true);
      assert.equal(await repo.deleteFunction("fn"), false, "a second delete finds nothing");
      assert.equal(await repo.getFunction("fn"), undefined);
      assert.equal(await repo.getVersion("fn", "1"), undefined);
      assert.deepEqual(await repo.listVersions("fn"), []);
      assert.deepEqual(await repo.listAliases("fn"), []);
      assert.deepEqual(await repo.referencedPackages(), new Set(["pkg-other"]));
      assert.equal(await repo.createFunction(latest, T0_MS + 5), true);
      assert.equal(await repo.getAlias("fn", "live"), undefined);
      assert.equal((await repo.publishVersion("fn", published(latest))).version, "1");
    }));

  test("an alias is inserted once, replaced only from the revision read, and deleted", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS);
      const live = alias("fn", "live", { additionalVersionWeights: { "2": 0.25 }, description: "prod" });
      assert.equal(await repo.putAlias(live, null), true);
      assert.equal(await repo.putAlias(alias("fn", "live", { revisionId: "other" }), null), false);
      assert.deepEqual(await repo.getAlias("fn", "live"), live);
      const moved = alias("fn", "live", { functionVersion: "2", revisionId: "rev-live-2" });
      assert.equal(await repo.putAlias(moved, "stale"), false, "a stale revision is refused");
      assert.equal(await repo.putAlias(moved, live.revisionId), true);
      assert.deepEqual(await repo.getAlias("fn", "live"), moved);
      assert.equal(await repo.putAlias(alias("fn", "nope"), "rev-nope-1"), false, "no alias to replace");
      await repo.deleteAlias("fn", "live");
      await repo.deleteAlias("fn", "never-was");
      assert.equal(await repo.getAlias("fn", "live"), undefined);
    }));

  test("of concurrent alias updates from one revision, exactly one wins", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS);
      const live = alias("fn", "live");
      await repo.putAlias(live, null);
      const nexts = Array.from({ length: 6 }, (_, i) => alias("fn", "live", { revisionId: `next-${i}` }));
      const results = await Promise.all(nexts.map((a) => repo.putAlias(a, live.revisionId)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await repo.getAlias("fn", "live"), nexts[results.indexOf(true)]);
    }));

  test("aliases are listed per function in byte order of their names", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS);
      await repo.createFunction(version("other"), T0_MS);
      for (const name of ["live", "Beta", "canary", "alpha"]) await repo.putAlias(alias("fn", name), null);
      await repo.putAlias(alias("other", "live"), null);
      assert.deepEqual(
        (await repo.listAliases("fn")).map((a) => a.name),
        ["Beta", "alpha", "canary", "live"],
      );
      assert.deepEqual(
        (await repo.listAliases("other")).map((a) => [a.functionName, a.name]),
        [["other", "live"]],
      );
    }));

  test("reserved concurrency is set, set to zero, and cleared", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS);
      await repo.setReservedConcurrency("fn", 5);
      assert.equal((await repo.getFunction("fn"))?.reservedConcurrency, 5);
      await repo.setReservedConcurrency("fn", 0);
      assert.equal((await repo.getFunction("fn"))?.reservedConcurrency, 0, "zero throttles: it is kept");
      await repo.setReservedConcurrency("fn", undefined);
      assert.equal((await repo.getFunction("fn"))?.reservedConcurrency, undefined);
    }));

  test("sandbox settings belong to the function: set, listed, cleared, never stored with a version", () =>
    withRepo(open, async ({ repo }) => {
      const sandbox: FunctionSandbox = { tier: "gvisor", internet: true, allow: ["10.0.0.5:5432"] };
      await repo.createFunction(version("fn", { sandbox }), T0_MS);
      assert.equal((await repo.getVersion("fn", LATEST))?.sandbox, undefined, "not stored with the version");
      assert.equal((await repo.getFunction("fn"))?.sandbox, undefined);
      await repo.setSandbox("fn", sandbox);
      assert.deepEqual((await repo.getFunction("fn"))?.sandbox, sandbox);
      assert.deepEqual((await repo.listFunctions(undefined, 10))[0]?.sandbox, sandbox);
      await repo.setSandbox("fn", { internet: false, allow: [] });
      assert.deepEqual((await repo.getFunction("fn"))?.sandbox, { internet: false, allow: [] });
      await repo.setSandbox("fn", undefined);
      const cleared = await repo.getFunction("fn");
      assert.equal(cleared !== undefined && "sandbox" in cleared, false, "cleared settings leave no key");
    }));

  test("tags given at creation read back with the function, and a function without tags has no key", () =>
    withRepo(open, async ({ repo }) => {
      const tags = { team: "a", "nimbus:stack": "shop", quote: 'é " \\', empty: "" };
      await repo.createFunction(version("tagged"), T0_MS, tags);
      await repo.createFunction(version("plain"), T0_MS, {});
      assert.deepEqual((await repo.getFunction("tagged"))?.tags, tags);
      assert.deepEqual(
        (await repo.listFunctions(undefined, 10)).find((f) => f.name === "tagged")?.tags,
        tags,
      );
      const plain = await repo.getFunction("plain");
      assert.equal(plain !== undefined && "tags" in plain, false, "no tags leave no key");
    }));

  test("tags are changed from the current ones; removing the last leaves none; a missing function is undefined", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS, { a: "1" });
      const seen: Record<string, string>[] = [];
      const added = await repo.updateTags("fn", (cur) => {
        seen.push({ ...cur });
        return { ...cur, b: "2" };
      });
      assert.deepEqual(seen, [{ a: "1" }]);
      assert.deepEqual(added, { a: "1", b: "2" });
      assert.deepEqual((await repo.getFunction("fn"))?.tags, { a: "1", b: "2" });
      assert.deepEqual(await repo.updateTags("fn", () => ({})), {});
      const cleared = await repo.getFunction("fn");
      assert.equal(cleared !== undefined && "tags" in cleared, false);
      assert.equal(await repo.updateTags("ghost", () => ({ a: "1" })), undefined);
      assert.equal(await repo.getFunction("ghost"), undefined, "no function is made");
    }));

  test("a change that throws changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS, { a: "1" });
      await assert.rejects(
        repo.updateTags("fn", () => {
          throw new Error("refused");
        }),
        /refused/,
      );
      assert.deepEqual((await repo.getFunction("fn"))?.tags, { a: "1" });
    }));

  test("concurrent tag changes each apply: none is lost", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS);
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => repo.updateTags("fn", (cur) => ({ ...cur, [`k${i}`]: `${i}` }))),
      );
      assert.deepEqual(Object.keys((await repo.getFunction("fn"))?.tags ?? {}).sort(), [
        "k0",
        "k1",
        "k2",
        "k3",
        "k4",
        "k5",
        "k6",
        "k7",
      ]);
    }));

  test("deleting a function deletes its tags: a function made again under its name has none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createFunction(version("fn"), T0_MS, { a: "1" });
      await repo.deleteFunction("fn");
      await repo.createFunction(version("fn"), T0_MS);
      assert.equal((await repo.getFunction("fn"))?.tags, undefined);
    }));

  test("account usage counts functions, and the code size of every version, published ones in full", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.accountUsage(), { functionCount: 0, totalCodeSize: 0 });
      const a = version("a", { codeSize: 1000 });
      await repo.createFunction(a, T0_MS);
      await repo.createFunction(version("b", { codeSize: 20 }), T0_MS);
      await repo.publishVersion("a", published(a));
      assert.deepEqual(await repo.accountUsage(), { functionCount: 2, totalCodeSize: 2020 });
      await repo.deleteFunction("a");
      assert.deepEqual(await repo.accountUsage(), { functionCount: 1, totalCodeSize: 20 });
    }));

  test("referenced packages are those of every version of every function, once each", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.referencedPackages(), new Set());
      const a = version("a", { packageId: "p1" });
      await repo.createFunction(a, T0_MS);
      await repo.createFunction(version("b", { packageId: "p1" }), T0_MS);
      await repo.publishVersion("a", published(a));
      await repo.replaceLatest(version("a", { packageId: "p2", revisionId: "a2" }), a.revisionId);
      assert.deepEqual(await repo.referencedPackages(), new Set(["p1", "p2"]));
      await repo.deleteVersion("a", "1");
      await repo.deleteFunction("b");
      assert.deepEqual(await repo.referencedPackages(), new Set(["p2"]));
    }));
}
