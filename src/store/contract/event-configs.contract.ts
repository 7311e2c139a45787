/** What asynchronous invocation settings rely on from every store. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventConfigsRepo, EventInvokeConfig } from "../../control/async/event-configs-repo.js";
import { type OpenRepo, T0_MS, version, withRepo } from "./harness.js";

function config(functionName: string, qualifier: string, patch: Partial<EventInvokeConfig> = {}) {
  return {
    functionName,
    qualifier,
    maximumRetryAttempts: 2,
    maximumEventAgeInSeconds: 21_600,
    onSuccess: "arn:aws:lambda:us-east-1:000000000000:function:ok",
    onFailure: "arn:aws:lambda:us-east-1:000000000000:function:failed",
    lastModified: T0_MS,
    ...patch,
  } satisfies EventInvokeConfig;
}

export function eventConfigsContract(open: OpenRepo<EventConfigsRepo>): void {
  test("an event invoke config is stored per qualifier and replaced by the next put", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const first = config("fn", "$LATEST");
      await repo.putEventInvokeConfig(first);
      assert.deepEqual(await repo.getEventInvokeConfig("fn", "$LATEST"), first);
      assert.equal(await repo.getEventInvokeConfig("fn", "1"), undefined);
      const next = config("fn", "$LATEST", { maximumRetryAttempts: 0, lastModified: T0_MS + 1_000 });
      await repo.putEventInvokeConfig(next);
      assert.deepEqual(await repo.getEventInvokeConfig("fn", "$LATEST"), next);
      assert.equal((await repo.listEventInvokeConfigs("fn")).length, 1);
    }));

  test("a destination left unset reads back unset", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.putEventInvokeConfig(config("fn", "live", { onSuccess: undefined, onFailure: undefined }));
      const got = await repo.getEventInvokeConfig("fn", "live");
      assert.equal(got?.onSuccess, undefined);
      assert.equal(got?.onFailure, undefined);
      assert.equal(got?.maximumEventAgeInSeconds, 21_600);
    }));

  test("a function's configs are listed in byte order of their qualifiers, apart from other functions'", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await functions.createFunction(version("other"), T0_MS);
      for (const q of ["live", "2", "$LATEST", "Beta", "10"])
        await repo.putEventInvokeConfig(config("fn", q));
      await repo.putEventInvokeConfig(config("other", "1"));
      assert.deepEqual(
        (await repo.listEventInvokeConfigs("fn")).map((c) => c.qualifier),
        ["$LATEST", "10", "2", "Beta", "live"],
      );
      assert.deepEqual(await repo.listEventInvokeConfigs("none"), []);
    }));

  test("deleting a config says whether there was one", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.putEventInvokeConfig(config("fn", "1"));
      assert.equal(await repo.deleteEventInvokeConfig("fn", "1"), true);
      assert.equal(await repo.deleteEventInvokeConfig("fn", "1"), false);
      assert.equal(await repo.getEventInvokeConfig("fn", "1"), undefined);
    }));

  test("a function's configs go with it, and a config of no function is refused", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.putEventInvokeConfig(config("fn", "$LATEST"));
      await functions.deleteFunction("fn");
      await functions.createFunction(version("fn"), T0_MS);
      assert.deepEqual(await repo.listEventInvokeConfigs("fn"), [], "a function created again has none");
      await assert.rejects(repo.putEventInvokeConfig(config("ghost", "$LATEST")));
    }));
}
