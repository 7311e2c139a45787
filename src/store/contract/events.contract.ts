/**
 * What the event bus relies on from every store: buses, their rules and each rule's targets
 * read back exactly as written (patterns byte for byte), list in byte order of their names page
 * by page, and go together when deleted; a rule with targets is not deleted on its own
 * (`events-archives.contract.ts` has archives, their events and replays). Times are epoch ms
 * past 2^32, so a store that narrowed them would show.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ArchiveRecord, EventBusRecord, RuleRecord, TargetRecord } from "../../services/events/model.js";
import type { EventsRepo } from "../../services/events/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import { sqsArn } from "./queues.contract.js";

/** A bus made at T0, without a description or dead-letter queue; `patch` overrides. */
export function bus(name: string, patch: Partial<EventBusRecord> = {}): EventBusRecord {
  return {
    name,
    description: undefined,
    deadLetterArn: undefined,
    tags: {},
    createdAt: T0_MS,
    modifiedAt: T0_MS,
    ...patch,
  };
}

/** An enabled rule of `busName` matching source "shop", made at T0; `patch` overrides. */
export function rule(busName: string, name: string, patch: Partial<RuleRecord> = {}): RuleRecord {
  return {
    busName,
    name,
    eventPattern: '{"source":["shop"]}',
    state: "ENABLED",
    description: undefined,
    tags: {},
    createdAt: T0_MS,
    modifiedAt: T0_MS,
    ...patch,
  };
}

/** A target of a rule: function `fn`, every optional field unset; `patch` overrides. */
export function target(
  busName: string,
  ruleName: string,
  id: string,
  patch: Partial<TargetRecord> = {},
): TargetRecord {
  return {
    busName,
    ruleName,
    id,
    arn: "arn:aws:lambda:us-east-1:000000000000:function:fn",
    input: undefined,
    inputPath: undefined,
    inputTransformer: undefined,
    maximumRetryAttempts: undefined,
    maximumEventAgeInSeconds: undefined,
    deadLetterArn: undefined,
    ...patch,
  };
}

/** An enabled archive of every event of `busName`, kept indefinitely, made at T0; `patch` overrides. */
export function archive(name: string, busName: string, patch: Partial<ArchiveRecord> = {}): ArchiveRecord {
  return {
    name,
    busName,
    eventPattern: undefined,
    description: undefined,
    retentionDays: 0,
    state: "ENABLED",
    createdAt: T0_MS,
    ...patch,
  };
}

/** Patterns as a user may write them: odd spacing, escapes left as written, non-ASCII, composed and not. */
export const ODD_PATTERNS = [
  '{ "source" :[ "shop" ,\n\t"billing"]} ',
  '{"detail":{"note":["caf\\u00e9"],"city":["Zürich","Zu\u0308rich"]}}',
  '{"detail":{"tag":[{"prefix":"📦 "}],"n":[{"numeric":[">",1e2]}]},"detail-type":["注文"]}',
];

/** Names whose byte order differs from a locale's (upper case first, `-` `.` `/` `_` between). */
export const NAMES_IN_BYTE_ORDER = [
  "-x",
  ".x",
  "/x",
  "B",
  "Z",
  "_x",
  "a",
  "a-1",
  "a.1",
  "a1",
  "a10",
  "a2",
  "b",
];

/** The same names in another order, to create them in. */
export const NAMES_SHUFFLED = ["a10", "b", "_x", "a", "Z", ".x", "a2", "B", "a-1", "/x", "a1", "-x", "a.1"];

/** Names a prefix must match literally: `_` and `%` are not wildcards, `\` is not an escape, case counts. */
export const PREFIX_NAMES = ["50%off", "50-off", "A_1", "a_1", "ab1", "x\\y", "xzy"];

const names = (records: ReadonlyArray<{ name: string }>): string[] => records.map((r) => r.name);
const targetIds = (targets: readonly TargetRecord[]): string[] => targets.map((t) => t.id);

export function eventsContract(open: OpenRepo<EventsRepo>): void {
  test("a bus reads back as created, unset fields undefined, and creating its name again says false and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const orders = bus("orders", {
        description: "Bestellungen 📦",
        deadLetterArn: sqsArn("orders-dlq"),
        tags: { team: "shop", "cost-center": "ünits" },
        createdAt: T0_MS + 2 ** 32 + 3,
        modifiedAt: T0_MS + 2 ** 33,
      });
      assert.equal(await repo.createBus(orders), true);
      assert.equal(await repo.createBus(bus("default")), true);
      assert.deepEqual(await repo.getBus("orders"), orders);
      assert.deepEqual(await repo.getBus("default"), bus("default"));
      assert.equal(await repo.createBus(bus("orders", { description: "other" })), false);
      assert.deepEqual(await repo.getBus("orders"), orders);
      assert.equal(await repo.getBus("missing"), undefined);
      assert.equal(await repo.getBus("Orders"), undefined, "names match with their case");
    }));

  test("updating a bus replaces its description, dead-letter queue, tags and modified time, keeps its created time, and says false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(
        bus("orders", { description: "old", deadLetterArn: sqsArn("dlq"), tags: { a: "1" } }),
      );
      await repo.createBus(bus("other"));
      const changed = bus("orders", {
        description: undefined,
        deadLetterArn: undefined,
        tags: { b: "2 🚀" },
        createdAt: T0_MS + 99,
        modifiedAt: T0_MS + 2 ** 32,
      });
      assert.equal(await repo.updateBus(changed), true);
      assert.deepEqual(await repo.getBus("orders"), { ...changed, createdAt: T0_MS });
      assert.deepEqual(await repo.getBus("other"), bus("other"), "another bus is left as it was");
      assert.equal(await repo.updateBus(bus("missing")), false);
      assert.equal(await repo.getBus("missing"), undefined, "an update creates nothing");
    }));

  test("buses are listed in byte order of their names, after the given name, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listBuses({ limit: 10 }), []);
      for (const name of NAMES_SHUFFLED) await repo.createBus(bus(name));
      const list = async (o: { prefix?: string; after?: string; limit: number }) =>
        names(await repo.listBuses(o));
      assert.deepEqual(await list({ limit: 100 }), NAMES_IN_BYTE_ORDER);
      assert.deepEqual(await list({ limit: 3 }), ["-x", ".x", "/x"]);
      assert.deepEqual(await list({ after: "/x", limit: 3 }), ["B", "Z", "_x"]);
      assert.deepEqual(await list({ after: "a2", limit: 3 }), ["b"]);
      assert.deepEqual(await list({ after: "b", limit: 3 }), []);
      assert.deepEqual(await list({ after: "A", limit: 2 }), ["B", "Z"], "after need not exist");
      assert.deepEqual(await list({ prefix: "a1", limit: 10 }), ["a1", "a10"]);
      assert.deepEqual(await list({ prefix: "a", after: "a.1", limit: 2 }), ["a1", "a10"]);
      assert.deepEqual(
        await repo.listBuses({ prefix: "_", limit: 10 }),
        [bus("_x")],
        "each with every field",
      );
    }));

  test("a name prefix matches literally: case counts, and _, % and \\ are not wildcards or escapes", () =>
    withRepo(open, async ({ repo }) => {
      for (const name of PREFIX_NAMES) await repo.createBus(bus(name));
      for (const name of PREFIX_NAMES) await repo.putRule(rule("a_1", name));
      for (const [prefix, expected] of [
        ["a_", ["a_1"]],
        ["A", ["A_1"]],
        ["50%", ["50%off"]],
        ["x\\", ["x\\y"]],
        ["%", []],
        ["_", []],
        ["", PREFIX_NAMES],
      ] as const) {
        assert.deepEqual(
          names(await repo.listBuses({ prefix, limit: 10 })),
          expected,
          `buses, prefix ${prefix}`,
        );
        assert.deepEqual(
          names(await repo.listRules({ busName: "a_1", prefix, limit: 10 })),
          expected,
          `rules, prefix ${prefix}`,
        );
      }
    }));

  test("a rule reads back as put, its pattern byte for byte", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      const rules = ODD_PATTERNS.map((eventPattern, i) =>
        rule("orders", `r${i}`, {
          eventPattern,
          state: i === 1 ? "DISABLED" : "ENABLED",
          description: `règle ${i} ✓`,
          tags: { i: String(i) },
          createdAt: T0_MS + 2 ** 32 + i,
          modifiedAt: T0_MS + 2 ** 33 + i,
        }),
      );
      for (const r of rules) await repo.putRule(r);
      for (const [i, r] of rules.entries()) {
        const got = await repo.getRule("orders", `r${i}`);
        assert.deepEqual(got, r);
        assert.equal(got?.eventPattern, ODD_PATTERNS[i], `pattern ${i} as the same string`);
      }
      assert.equal(await repo.getRule("orders", "missing"), undefined);
      assert.equal(await repo.getRule("other", "r0"), undefined, "a rule is its bus's");
    }));

  test("putting a rule again replaces its fields and keeps its targets", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      await repo.putRule(rule("orders", "paid", { description: "old", tags: { a: "1" } }));
      const targets = [target("orders", "paid", "t1"), target("orders", "paid", "t2", { input: "{}" })];
      await repo.putTargets(targets);
      const replaced = rule("orders", "paid", {
        eventPattern: ODD_PATTERNS[2]!,
        state: "DISABLED",
        description: undefined,
        tags: { b: "2" },
        modifiedAt: T0_MS + 60_000,
      });
      await repo.putRule(replaced);
      assert.deepEqual(await repo.getRule("orders", "paid"), replaced);
      assert.deepEqual(await repo.listTargets("orders", "paid"), targets);
      assert.deepEqual(await repo.allRules(), [{ rule: replaced, targets }]);
    }));

  test("a rule of a bus that does not exist is refused, and targets of a rule that does not exist are too", () =>
    withRepo(open, async ({ repo }) => {
      await assert.rejects(repo.putRule(rule("ghost", "r")));
      await repo.createBus(bus("ghost"));
      assert.deepEqual(await repo.listRules({ busName: "ghost", limit: 10 }), []);
      await assert.rejects(repo.putTargets([target("ghost", "r", "t1"), target("ghost", "r", "t2")]));
      await repo.putRule(rule("ghost", "r"));
      assert.deepEqual(await repo.listTargets("ghost", "r"), [], "the refused targets were not kept");
    }));

  test("a bus's rules are listed in byte order of their names, after the given name, at most the limit, without other buses' rules", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      await repo.createBus(bus("other"));
      assert.deepEqual(await repo.listRules({ busName: "orders", limit: 10 }), []);
      for (const name of NAMES_SHUFFLED) await repo.putRule(rule("orders", name));
      await repo.putRule(rule("other", "a0"));
      await repo.putRule(rule("other", "zz"));
      const list = async (o: { prefix?: string; after?: string; limit: number }) =>
        names(await repo.listRules({ busName: "orders", ...o }));
      assert.deepEqual(await list({ limit: 100 }), NAMES_IN_BYTE_ORDER);
      assert.deepEqual(await list({ limit: 4 }), ["-x", ".x", "/x", "B"]);
      assert.deepEqual(await list({ after: "B", limit: 4 }), ["Z", "_x", "a", "a-1"]);
      assert.deepEqual(await list({ after: "a10", limit: 4 }), ["a2", "b"]);
      assert.deepEqual(await list({ after: "b", limit: 4 }), []);
      assert.deepEqual(await list({ prefix: "a", limit: 3 }), ["a", "a-1", "a.1"], "not other buses' a0");
      assert.deepEqual(await list({ prefix: "a", after: "a.1", limit: 10 }), ["a1", "a10", "a2"]);
      assert.deepEqual(names(await repo.listRules({ busName: "other", limit: 10 })), ["a0", "zz"]);
      assert.deepEqual(await repo.listRules({ busName: "missing", limit: 10 }), []);
      assert.deepEqual(
        await repo.listRules({ busName: "other", prefix: "z", limit: 10 }),
        [rule("other", "zz")],
        "each with every field",
      );
    }));

  test("deleting a rule that still has targets throws, saying they must be removed first, and deletes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      await repo.putRule(rule("orders", "paid"));
      await repo.putTargets([target("orders", "paid", "t1")]);
      await assert.rejects(repo.deleteRule("orders", "paid"), (err: Error) => {
        assert.match(err.message, /"paid"/);
        assert.match(err.message, /has targets/);
        assert.match(err.message, /remove them first/);
        return true;
      });
      assert.deepEqual(await repo.getRule("orders", "paid"), rule("orders", "paid"));
      assert.deepEqual(await repo.listTargets("orders", "paid"), [target("orders", "paid", "t1")]);

      assert.deepEqual(await repo.removeTargets("orders", "paid", ["t1"]), ["t1"]);
      assert.equal(await repo.deleteRule("orders", "paid"), true, "without targets it is deleted");
      assert.equal(await repo.getRule("orders", "paid"), undefined);
      assert.equal(await repo.deleteRule("orders", "paid"), false);
      assert.equal(await repo.deleteRule("missing", "paid"), false);
      assert.deepEqual(await repo.getBus("orders"), bus("orders"), "its bus stays");
    }));

  test("targets read back field for field, in byte order of their ids, and putting an id again replaces that target", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      await repo.putRule(rule("orders", "paid"));
      await repo.putRule(rule("orders", "refunded"));
      const full = target("orders", "paid", "b", {
        arn: sqsArn("invoices"),
        inputTransformer: {
          inputPathsMap: { id: "$.detail.id", città: "$.detail['città']" },
          inputTemplate: '{ "order" : <id>, "note": "Grüße 👋🏽\\n", "raw": "<città>" }',
        },
        maximumRetryAttempts: 0,
        maximumEventAgeInSeconds: 86_400,
        deadLetterArn: sqsArn("dlq"),
      });
      const withInput = target("orders", "paid", "B", { input: '{"fixed": "ünïcode",\t"n":1e3}' });
      const withPath = target("orders", "paid", "a-1", { inputPath: "$.detail", maximumRetryAttempts: 185 });
      const plain = target("orders", "paid", "A");
      const http = target("orders", "paid", "h", {
        arn: "arn:aws:events:us-east-1:000000000000:api-destination/hook/5e0c",
        httpParameters: {
          pathValues: ["shop 1", "ü"],
          headers: { "x-trace": "t-1", "X-Case": "Kept" },
          query: { page: "3", "q&": "a=b" },
        },
      });
      await repo.putTargets([full, withInput, withPath, plain, http]);
      await repo.putTargets([target("orders", "refunded", "a")]);
      assert.deepEqual(await repo.listTargets("orders", "paid"), [plain, withInput, withPath, full, http]);
      assert.deepEqual(await repo.listTargets("orders", "refunded"), [target("orders", "refunded", "a")]);
      assert.deepEqual(await repo.listTargets("orders", "missing"), []);

      const replaced = target("orders", "paid", "b", { arn: sqsArn("other"), input: "42" });
      await repo.putTargets([replaced, target("orders", "paid", "c")]);
      assert.deepEqual(await repo.listTargets("orders", "paid"), [
        plain,
        withInput,
        withPath,
        replaced,
        target("orders", "paid", "c"),
        http,
      ]);
    }));

  test("removing targets removes those ids of that rule alone, and returns the ids that were there", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      await repo.createBus(bus("other"));
      await repo.putRule(rule("orders", "paid"));
      await repo.putRule(rule("orders", "refunded"));
      await repo.putRule(rule("other", "paid"));
      await repo.putTargets(["t1", "t2", "t3", "T1"].map((id) => target("orders", "paid", id)));
      await repo.putTargets([target("orders", "refunded", "t1")]);
      await repo.putTargets([target("other", "paid", "t1")]);

      const removed = await repo.removeTargets("orders", "paid", ["t3", "missing", "t1", "t%"]);
      assert.deepEqual([...removed].sort(), ["t1", "t3"]);
      assert.deepEqual(targetIds(await repo.listTargets("orders", "paid")), ["T1", "t2"]);
      assert.deepEqual(targetIds(await repo.listTargets("orders", "refunded")), ["t1"], "another rule's");
      assert.deepEqual(targetIds(await repo.listTargets("other", "paid")), ["t1"], "another bus's");
      assert.deepEqual(await repo.removeTargets("orders", "paid", ["t1", "t3"]), [], "removed already");
      assert.deepEqual(await repo.removeTargets("orders", "paid", []), []);
      assert.deepEqual(await repo.removeTargets("orders", "missing", ["T1"]), []);
      assert.deepEqual(targetIds(await repo.listTargets("orders", "paid")), ["T1", "t2"]);
    }));

  test("all rules are every bus's, ordered by bus then name, each with its targets in byte order of their ids", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.allRules(), []);
      for (const name of ["orders", "Orders", "default"]) await repo.createBus(bus(name));
      const paid = rule("orders", "paid", { eventPattern: ODD_PATTERNS[1]! });
      const Paid = rule("orders", "Paid", { state: "DISABLED" });
      const lone = rule("Orders", "zz");
      const dflt = rule("default", "all", { eventPattern: "{}" });
      for (const r of [paid, dflt, lone, Paid]) await repo.putRule(r);
      const paidTargets = ["b", "A", "a"].map((id) => target("orders", "paid", id, { input: id }));
      await repo.putTargets(paidTargets);
      await repo.putTargets([target("default", "all", "x")]);
      assert.deepEqual(await repo.allRules(), [
        { rule: lone, targets: [] },
        { rule: dflt, targets: [target("default", "all", "x")] },
        { rule: Paid, targets: [] },
        { rule: paid, targets: [paidTargets[1]!, paidTargets[2]!, paidTargets[0]!] },
      ]);
    }));

  test("deleting a bus removes its rules and their targets, not its archives, and says false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createBus(bus("orders"));
      await repo.createBus(bus("other"));
      await repo.putRule(rule("orders", "paid"));
      await repo.putTargets([target("orders", "paid", "t1")]);
      await repo.putRule(rule("other", "paid"));
      await repo.putTargets([target("other", "paid", "t1")]);
      await repo.createArchive(archive("orders-archive", "orders"));
      await repo.archiveEvents("orders-archive", [{ time: T0_MS, event: '{"id":"e1"}' }]);

      assert.equal(await repo.deleteBus("orders"), true, "its rule with a target does not stop it");
      assert.equal(await repo.getBus("orders"), undefined);
      assert.equal(await repo.getRule("orders", "paid"), undefined);
      assert.deepEqual(await repo.listTargets("orders", "paid"), []);
      assert.deepEqual(await repo.allRules(), [
        { rule: rule("other", "paid"), targets: [target("other", "paid", "t1")] },
      ]);
      assert.deepEqual(await repo.getArchive("orders-archive"), archive("orders-archive", "orders"));
      assert.deepEqual(await repo.archiveStats("orders-archive"), { count: 1, bytes: 11 });
      assert.equal(await repo.deleteBus("orders"), false);
      assert.equal(await repo.deleteBus("missing"), false);

      // Made again, the bus starts without rules.
      assert.equal(await repo.createBus(bus("orders")), true);
      assert.deepEqual(await repo.listRules({ busName: "orders", limit: 10 }), []);
      await repo.putRule(rule("orders", "paid"));
      assert.deepEqual(await repo.listTargets("orders", "paid"), []);
    }));
}
