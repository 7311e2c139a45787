/** What function URLs rely on from every store. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionUrlConfig, FunctionUrlsRepo, UrlCors } from "../../control/urls/repo.js";
import { type OpenRepo, T0_MS, version, withRepo } from "./harness.js";

/** A URL of (functionName, qualifier), its id made from both unless `patch` gives one. */
function url(functionName: string, qualifier: string, patch: Partial<FunctionUrlConfig> = {}) {
  return {
    urlId: `${functionName}-${qualifier}`
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "0")
      .padEnd(32, "0"),
    functionName,
    qualifier,
    authType: "NONE",
    invokeMode: "BUFFERED",
    cors: undefined,
    createdAt: T0_MS,
    lastModified: T0_MS,
    ...patch,
  } satisfies FunctionUrlConfig;
}

/** Every field set, with values a store could mangle: an empty list, a zero, non-ASCII. */
const EVERY_CORS: UrlCors = {
  allowCredentials: false,
  allowHeaders: ["content-type", "x-amz-date"],
  allowMethods: ["GET", "POST"],
  allowOrigins: ["https://example.com", "http://localhost:5173", "https://bücher.example"],
  exposeHeaders: [],
  maxAge: 0,
};

export function functionUrlsContract(open: OpenRepo<FunctionUrlsRepo>): void {
  test("a created URL is found by its function and qualifier, and by its id", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const live = url("fn", "live", { authType: "AWS_IAM", invokeMode: "RESPONSE_STREAM" });
      assert.equal(await repo.createFunctionUrl(live), true);
      assert.deepEqual(await repo.getFunctionUrl("fn", "live"), live);
      assert.deepEqual(await repo.getFunctionUrlById(live.urlId), live);
      assert.equal(await repo.getFunctionUrl("fn", "$LATEST"), undefined);
      assert.equal(await repo.getFunctionUrlById("0".repeat(32)), undefined);
    }));

  test("a second URL for the same function and qualifier is refused and the first is left as it was", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const first = url("fn", "$LATEST");
      await repo.createFunctionUrl(first);
      const second = url("fn", "$LATEST", {
        urlId: "b".repeat(32),
        authType: "AWS_IAM",
        cors: EVERY_CORS,
        createdAt: T0_MS + 1_000,
        lastModified: T0_MS + 1_000,
      });
      assert.equal(await repo.createFunctionUrl(second), false);
      // The same create again (a retried request, same id) is refused the same way.
      assert.equal(await repo.createFunctionUrl(first), false);
      assert.deepEqual(await repo.getFunctionUrl("fn", "$LATEST"), first);
      assert.equal(await repo.getFunctionUrlById(second.urlId), undefined);
      assert.deepEqual(await repo.listFunctionUrls("fn"), [first]);
    }));

  test("two qualifiers of one function have URLs of their own", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const latest = url("fn", "$LATEST");
      const live = url("fn", "live", { authType: "AWS_IAM" });
      assert.equal(await repo.createFunctionUrl(latest), true);
      assert.equal(await repo.createFunctionUrl(live), true);
      assert.deepEqual(await repo.getFunctionUrlById(latest.urlId), latest);
      assert.deepEqual(await repo.getFunctionUrlById(live.urlId), live);
      assert.deepEqual(await repo.listFunctionUrls("fn"), [latest, live]);
    }));

  test("a function's URLs are listed in byte order of their qualifiers, apart from other functions'", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await functions.createFunction(version("other"), T0_MS);
      for (const q of ["live", "2", "$LATEST", "Beta", "10"]) await repo.createFunctionUrl(url("fn", q));
      await repo.createFunctionUrl(url("other", "1"));
      assert.deepEqual(
        (await repo.listFunctionUrls("fn")).map((u) => u.qualifier),
        ["$LATEST", "10", "2", "Beta", "live"],
      );
      assert.deepEqual(await repo.listFunctionUrls("other"), [url("other", "1")]);
      assert.deepEqual(await repo.listFunctionUrls("none"), []);
    }));

  test("every URL of every function is listed, by function then qualifier", () =>
    withRepo(open, async ({ repo, functions }) => {
      assert.deepEqual(await repo.listAllFunctionUrls(), []);
      await functions.createFunction(version("fn"), T0_MS);
      await functions.createFunction(version("Zed"), T0_MS);
      await repo.createFunctionUrl(url("fn", "live"));
      await repo.createFunctionUrl(url("Zed", "$LATEST"));
      await repo.createFunctionUrl(url("fn", "$LATEST", { cors: EVERY_CORS }));
      assert.deepEqual(await repo.listAllFunctionUrls(), [
        url("Zed", "$LATEST"),
        url("fn", "$LATEST", { cors: EVERY_CORS }),
        url("fn", "live"),
      ]);
    }));

  test("an update replaces a URL's settings but keeps its id and creation time, and says false when there is none", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const created = url("fn", "live", { cors: EVERY_CORS });
      await repo.createFunctionUrl(created);
      const changes = {
        authType: "AWS_IAM",
        invokeMode: "RESPONSE_STREAM",
        cors: { allowOrigins: ["*"], maxAge: 86_400 },
        lastModified: T0_MS + 60_000,
      } satisfies Partial<FunctionUrlConfig>;
      const asked = url("fn", "live", { ...changes, urlId: "c".repeat(32), createdAt: T0_MS + 60_000 });
      assert.equal(await repo.updateFunctionUrl(asked), true);
      const updated = { ...created, ...changes };
      assert.deepEqual(await repo.getFunctionUrl("fn", "live"), updated);
      assert.deepEqual(await repo.getFunctionUrlById(created.urlId), updated);
      assert.equal(await repo.getFunctionUrlById(asked.urlId), undefined);

      assert.equal(await repo.updateFunctionUrl(url("fn", "$LATEST")), false);
      assert.equal(await repo.getFunctionUrl("fn", "$LATEST"), undefined);
    }));

  test("an update can take a URL's cross-origin settings away", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.createFunctionUrl(url("fn", "live", { cors: EVERY_CORS }));
      assert.equal(await repo.updateFunctionUrl(url("fn", "live", { lastModified: T0_MS + 1 })), true);
      assert.deepEqual(
        await repo.getFunctionUrl("fn", "live"),
        url("fn", "live", { lastModified: T0_MS + 1 }),
      );
    }));

  test("deleting a URL says whether there was one, and its id no longer resolves", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const live = url("fn", "live");
      await repo.createFunctionUrl(live);
      await repo.createFunctionUrl(url("fn", "$LATEST"));
      assert.equal(await repo.deleteFunctionUrl("fn", "live"), true);
      assert.equal(await repo.deleteFunctionUrl("fn", "live"), false);
      assert.equal(await repo.getFunctionUrl("fn", "live"), undefined);
      assert.equal(await repo.getFunctionUrlById(live.urlId), undefined);
      assert.deepEqual(await repo.listFunctionUrls("fn"), [url("fn", "$LATEST")]);
      // Deleted, the qualifier can have a URL again.
      assert.equal(await repo.createFunctionUrl(url("fn", "live", { urlId: "d".repeat(32) })), true);
    }));

  test("a function's URLs go with it, and a URL of no function is refused", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await functions.createFunction(version("other"), T0_MS);
      const latest = url("fn", "$LATEST");
      await repo.createFunctionUrl(latest);
      await repo.createFunctionUrl(url("fn", "live"));
      await repo.createFunctionUrl(url("other", "live"));
      assert.equal(await functions.deleteFunction("fn"), true);
      assert.equal(await repo.getFunctionUrlById(latest.urlId), undefined);
      assert.deepEqual(await repo.listAllFunctionUrls(), [url("other", "live")]);
      await functions.createFunction(version("fn"), T0_MS);
      assert.deepEqual(await repo.listFunctionUrls("fn"), [], "a function created again has none");
      await assert.rejects(repo.createFunctionUrl(url("ghost", "$LATEST")));
      assert.equal(await repo.getFunctionUrl("ghost", "$LATEST"), undefined);
    }));

  test("cross-origin settings round-trip with every field, and a URL without them reads back undefined", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.createFunctionUrl(url("fn", "cors", { cors: EVERY_CORS }));
      await repo.createFunctionUrl(url("fn", "empty", { cors: {} }));
      await repo.createFunctionUrl(url("fn", "none"));
      assert.deepEqual((await repo.getFunctionUrl("fn", "cors"))?.cors, EVERY_CORS);
      assert.deepEqual((await repo.getFunctionUrl("fn", "empty"))?.cors, {});
      const none = await repo.getFunctionUrl("fn", "none");
      assert.ok(none);
      assert.ok("cors" in none, "cors is a field of every URL, undefined when unset");
      assert.equal(none.cors, undefined);
    }));

  test("a URL id is unique across functions: creating a URL with a taken id fails and writes nothing", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await functions.createFunction(version("other"), T0_MS);
      const taken = url("fn", "$LATEST");
      await repo.createFunctionUrl(taken);
      // The database's unique-constraint error, naming the column (the service makes ids at random).
      await assert.rejects(repo.createFunctionUrl(url("other", "$LATEST", { urlId: taken.urlId })), /url_id/);
      assert.deepEqual(await repo.getFunctionUrlById(taken.urlId), taken);
      assert.deepEqual(await repo.listFunctionUrls("other"), []);
    }));
}
