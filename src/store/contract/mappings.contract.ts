/**
 * What event source mappings rely on from every store: a mapping reads back exactly as written
 * (its filters byte for byte), a UUID is taken once, and mappings list in byte order of their
 * UUIDs, by queue, by function or both, page by page.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventSourceMapping, EventSourceMappingsRepo } from "../../control/triggers/mappings/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import { sqsArn } from "./queues.contract.js";

/** A mapping of "fn" reading "orders", made at T0, with Lambda's defaults; `patch` overrides. */
function mapping(uuid: string, patch: Partial<EventSourceMapping> = {}): EventSourceMapping {
  return {
    uuid,
    eventSourceArn: sqsArn("orders"),
    functionName: "fn",
    qualifier: undefined,
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    functionResponseTypes: [],
    filters: [],
    maximumConcurrency: undefined,
    enabled: true,
    state: "Enabled",
    stateTransitionReason: "USER_INITIATED",
    lastProcessingResult: "No records processed",
    lastModified: T0_MS,
    ...patch,
  };
}

/** Patterns as a user may write them: odd spacing, escapes left as written, non-ASCII, composed and not. */
const ODD_FILTERS = [
  '{ "body" :{"status":[ "paid" ,\n\t"refunded"]} }',
  '{"body":{"note":["caf\\u00e9"],"city":["Zürich","Zu\u0308rich"]}}',
  '{"attributes":{"tag":[{"prefix":"📦 "}]},"body":{"n":[{"numeric":[">",1e2]}]}}   ',
];

/** UUIDs whose byte order differs from a locale's (upper case before lower case). */
const UUID_0 = "0a6b1f2e-5c1d-4e7a-9b3c-2d4e6f8a0b1c";
const UUID_9 = "9f3e2d1c-0b4a-4f5e-8d7c-6b5a4f3e2d1c";
const UUID_A = "A3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e";
const UUID_B = "B1d2e3f4-a5b6-4c7d-9e8f-0a1b2c3d4e5f";
const UUID_a = "a3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e";
const UUID_b = "b0e1f2a3-b4c5-4d6e-8f7a-9b0c1d2e3f4a";
const IN_BYTE_ORDER = [UUID_0, UUID_9, UUID_A, UUID_B, UUID_a, UUID_b];

const uuids = (ms: readonly EventSourceMapping[]): string[] => ms.map((m) => m.uuid);

export function mappingsContract(open: OpenRepo<EventSourceMappingsRepo>): void {
  test("a created mapping reads back with every field as given, unset ones undefined and filters exactly as written", () =>
    withRepo(open, async ({ repo }) => {
      const full = mapping(UUID_a, {
        eventSourceArn: sqsArn("orders.fifo"),
        qualifier: "live",
        batchSize: 10_000,
        maximumBatchingWindowInSeconds: 300,
        functionResponseTypes: ["ReportBatchItemFailures"],
        filters: ODD_FILTERS,
        maximumConcurrency: 2,
        enabled: false,
        state: "Disabled",
        lastProcessingResult: "PROBLEM: Function call failed",
        lastModified: T0_MS + 1,
      });
      const plain = mapping(UUID_b);
      assert.equal(await repo.createMapping(full), true);
      assert.equal(await repo.createMapping(plain), true);
      // Strict: the filters as the same strings, and the unset fields present as undefined.
      assert.deepEqual(await repo.getMapping(UUID_a), full);
      assert.deepEqual(await repo.getMapping(UUID_b), plain);
      assert.equal(await repo.getMapping(UUID_0), undefined);
    }));

  test("creating a mapping whose UUID exists says false and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const first = mapping(UUID_a, { filters: ODD_FILTERS });
      await repo.createMapping(first);
      const second = mapping(UUID_a, {
        eventSourceArn: sqsArn("other"),
        functionName: "other",
        qualifier: "1",
        batchSize: 1,
        maximumConcurrency: 5,
        filters: [],
        enabled: false,
        state: "Disabled",
        lastModified: T0_MS + 60_000,
      });
      assert.equal(await repo.createMapping(second), false);
      assert.equal(await repo.createMapping(first), false, "the same create again is refused too");
      assert.deepEqual(await repo.getMapping(UUID_a), first);
      assert.deepEqual(await repo.listMappings({ limit: 10 }), [first]);
      assert.deepEqual(await repo.listMappings({ functionName: "other", limit: 10 }), []);
    }));

  test("an update replaces every field of the mapping, unset ones included, and says false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createMapping(
        mapping(UUID_a, { qualifier: "live", maximumConcurrency: 10, filters: ODD_FILTERS }),
      );
      await repo.createMapping(mapping(UUID_b));
      const next = mapping(UUID_a, {
        functionName: "other",
        qualifier: undefined,
        batchSize: 100,
        maximumBatchingWindowInSeconds: 5,
        functionResponseTypes: ["ReportBatchItemFailures"],
        filters: ['{"body":{"kind":["ä"]}}'],
        maximumConcurrency: undefined,
        enabled: false,
        state: "Disabled",
        lastProcessingResult: "OK",
        lastModified: T0_MS + 60_000,
      });
      assert.equal(await repo.updateMapping(next), true);
      assert.deepEqual(await repo.getMapping(UUID_a), next);
      assert.deepEqual(await repo.getMapping(UUID_b), mapping(UUID_b), "another mapping is left as it was");
      assert.deepEqual(uuids(await repo.listMappings({ functionName: "other", limit: 10 })), [UUID_a]);
      assert.deepEqual(uuids(await repo.listMappings({ functionName: "fn", limit: 10 })), [UUID_b]);

      assert.equal(await repo.updateMapping(mapping(UUID_0)), false);
      assert.equal(await repo.getMapping(UUID_0), undefined, "an update creates nothing");
    }));

  test("deleting a mapping says whether there was one, and leaves the others", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createMapping(mapping(UUID_a));
      await repo.createMapping(mapping(UUID_b));
      assert.equal(await repo.deleteMapping(UUID_a), true);
      assert.equal(await repo.deleteMapping(UUID_a), false);
      assert.equal(await repo.getMapping(UUID_a), undefined);
      assert.deepEqual(await repo.listMappings({ limit: 10 }), [mapping(UUID_b)]);
      assert.equal(await repo.deleteMapping(UUID_0), false);
      // Deleted, its UUID can be taken again.
      assert.equal(await repo.createMapping(mapping(UUID_a, { batchSize: 5 })), true);
      assert.deepEqual(await repo.getMapping(UUID_a), mapping(UUID_a, { batchSize: 5 }));
    }));

  test("mappings are listed by queue, by function, or by both, in byte order of their UUIDs", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listMappings({ limit: 10 }), []);
      const all = [
        mapping(UUID_b, { eventSourceArn: sqsArn("orders"), functionName: "fn" }),
        mapping(UUID_a, { eventSourceArn: sqsArn("orders"), functionName: "other" }),
        mapping(UUID_9, { eventSourceArn: sqsArn("refunds"), functionName: "fn", qualifier: "live" }),
        mapping(UUID_B, { eventSourceArn: sqsArn("refunds"), functionName: "other" }),
        mapping(UUID_0, { eventSourceArn: sqsArn("orders"), functionName: "fn", qualifier: "live" }),
        mapping(UUID_A, { eventSourceArn: sqsArn("Orders"), functionName: "Fn" }),
      ];
      for (const m of all) await repo.createMapping(m);
      const list = async (o: { eventSourceArn?: string; functionName?: string }) =>
        uuids(await repo.listMappings({ ...o, limit: 10 }));
      assert.deepEqual(await list({}), IN_BYTE_ORDER);
      assert.deepEqual(await list({ eventSourceArn: sqsArn("orders") }), [UUID_0, UUID_a, UUID_b]);
      assert.deepEqual(await list({ eventSourceArn: sqsArn("refunds") }), [UUID_9, UUID_B]);
      assert.deepEqual(await list({ functionName: "fn" }), [UUID_0, UUID_9, UUID_b]);
      assert.deepEqual(await list({ functionName: "other" }), [UUID_B, UUID_a]);
      assert.deepEqual(await list({ eventSourceArn: sqsArn("orders"), functionName: "fn" }), [
        UUID_0,
        UUID_b,
      ]);
      assert.deepEqual(await list({ eventSourceArn: sqsArn("refunds"), functionName: "fn" }), [UUID_9]);
      assert.deepEqual(
        await list({ eventSourceArn: sqsArn("Orders") }),
        [UUID_A],
        "names match with their case",
      );
      assert.deepEqual(await list({ eventSourceArn: sqsArn("orders"), functionName: "Fn" }), []);
      assert.deepEqual(await list({ eventSourceArn: sqsArn("missing") }), []);
      assert.deepEqual(await list({ functionName: "missing" }), []);
      assert.deepEqual(
        await repo.listMappings({ functionName: "fn", limit: 10 }),
        [all[4], all[2], all[0]],
        "each with every field",
      );
    }));

  test("a listing pages after the given UUID (not included), at most the limit at a time", () =>
    withRepo(open, async ({ repo }) => {
      for (const uuid of [...IN_BYTE_ORDER].reverse())
        await repo.createMapping(
          mapping(uuid, { functionName: [UUID_9, UUID_a].includes(uuid) ? "other" : "fn" }),
        );
      const page = async (o: { functionName?: string; after?: string; limit: number }) =>
        uuids(await repo.listMappings(o));
      assert.deepEqual(await page({ limit: 2 }), [UUID_0, UUID_9]);
      assert.deepEqual(await page({ after: UUID_9, limit: 2 }), [UUID_A, UUID_B]);
      assert.deepEqual(await page({ after: UUID_B, limit: 2 }), [UUID_a, UUID_b]);
      assert.deepEqual(await page({ after: UUID_b, limit: 2 }), []);
      assert.deepEqual(
        await page({ after: "A", limit: 3 }),
        [UUID_A, UUID_B, UUID_a],
        "after need not exist",
      );
      assert.deepEqual(await page({ after: UUID_0, limit: 1 }), [UUID_9]);
      // Paging one function's mappings: the other function's are skipped, not counted.
      assert.deepEqual(await page({ functionName: "fn", limit: 2 }), [UUID_0, UUID_A]);
      assert.deepEqual(await page({ functionName: "fn", after: UUID_A, limit: 2 }), [UUID_B, UUID_b]);
      assert.deepEqual(await page({ functionName: "fn", after: UUID_b, limit: 2 }), []);
    }));

  test("last-modified times past 2^32 ms are kept exactly, through a create and an update", () =>
    withRepo(open, async ({ repo }) => {
      const created = mapping(UUID_a, { lastModified: T0_MS + 1 });
      await repo.createMapping(created);
      assert.equal((await repo.getMapping(UUID_a))?.lastModified, T0_MS + 1);
      const later = T0_MS + 2 ** 32 + 3;
      await repo.updateMapping({ ...created, lastModified: later });
      assert.equal((await repo.getMapping(UUID_a))?.lastModified, later);
      assert.equal((await repo.listMappings({ limit: 1 }))[0]?.lastModified, later);
    }));
}
