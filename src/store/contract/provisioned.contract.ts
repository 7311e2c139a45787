/** What provisioned concurrency and its billing rely on from every store. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProvisionedConfig, ProvisionedRepo, ProvisionedSpan } from "../../control/provisioned-repo.js";
import { type OpenRepo, T0_MS, version, withRepo } from "./harness.js";

function config(functionName: string, qualifier: string, requested = 2): ProvisionedConfig {
  return { functionName, qualifier, requested, lastModified: T0_MS };
}

const MINUTE_MS = 60_000;

/** A span of `fn` from T0 + `from` to T0 + `to` minutes. */
function span(functionName: string, from: number, to: number, instanceId = `i-${from}`): ProvisionedSpan {
  return {
    functionName,
    version: "3",
    instanceId,
    memoryMb: 1_769,
    startedAt: T0_MS + from * MINUTE_MS,
    stoppedAt: T0_MS + to * MINUTE_MS,
  };
}

export function provisionedContract(open: OpenRepo<ProvisionedRepo>): void {
  test("provisioned configs are put, replaced, listed per function or all, and deleted", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("b"), T0_MS);
      await functions.createFunction(version("a"), T0_MS);
      await repo.putProvisionedConfig(config("b", "live"));
      await repo.putProvisionedConfig(config("a", "live"));
      await repo.putProvisionedConfig(config("b", "1"));
      await repo.putProvisionedConfig(config("b", "live", 7));
      assert.deepEqual(await repo.listProvisionedConfigs("b"), [config("b", "1"), config("b", "live", 7)]);
      assert.deepEqual(
        (await repo.listProvisionedConfigs()).map((c) => [c.functionName, c.qualifier, c.requested]),
        [
          ["a", "live", 2],
          ["b", "1", 2],
          ["b", "live", 7],
        ],
      );
      assert.equal(await repo.deleteProvisionedConfig("b", "live"), true);
      assert.equal(await repo.deleteProvisionedConfig("b", "live"), false);
      assert.deepEqual(await repo.listProvisionedConfigs("b"), [config("b", "1")]);
    }));

  test("a function's provisioned configs go with it; a config of no function is refused", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      await repo.putProvisionedConfig(config("fn", "1"));
      await functions.deleteFunction("fn");
      assert.deepEqual(await repo.listProvisionedConfigs(), []);
      await assert.rejects(repo.putProvisionedConfig(config("ghost", "1")));
    }));

  test("the spans overlapping a window [from, to) are returned oldest first, of one function or all", () =>
    withRepo(open, async ({ repo }) => {
      // Window: minutes 10 to 20. A span ending at 10 or starting at 20 only touches it.
      const before = span("fn", 0, 10);
      const across = span("fn", 5, 15);
      const inside = span("fn", 12, 14);
      const after = span("fn", 20, 30);
      const spanning = span("other", 1, 40);
      for (const s of [after, inside, spanning, before, across]) await repo.recordProvisionedSpan(s);
      const from = T0_MS + 10 * MINUTE_MS;
      const to = T0_MS + 20 * MINUTE_MS;
      assert.deepEqual(await repo.provisionedSpans("fn", from, to), [across, inside]);
      assert.deepEqual(await repo.provisionedSpans(undefined, from, to), [spanning, across, inside]);
      assert.deepEqual(await repo.provisionedSpans("none", from, to), []);
    }));

  test("spans outlive their function: they are billed", () =>
    withRepo(open, async ({ repo, functions }) => {
      await functions.createFunction(version("fn"), T0_MS);
      const s = span("fn", 0, 60);
      await repo.recordProvisionedSpan(s);
      await functions.deleteFunction("fn");
      assert.deepEqual(await repo.provisionedSpans("fn", T0_MS, T0_MS + 60 * MINUTE_MS), [s]);
    }));
}
