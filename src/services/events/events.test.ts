/**
 * The bus keeps its rules compiled in memory and recompiles only the rule a change touches: what
 * an event matches follows every change (a rule put, changed, disabled, deleted, its targets
 * changed) at once, the other rules keep matching, matches come in the rules' name order, and of
 * two changes to one rule racing, the later one wins.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { silentLogger } from "../../shared/logger.js";
import { SqliteStore } from "../../store/sqlite.js";
import { EventBus } from "./events.js";

const ACCOUNT = { region: "us-east-1", accountId: "123456789012" };
const queueArn = (name: string) => `arn:aws:sqs:${ACCOUNT.region}:${ACCOUNT.accountId}:${name}`;

/** A bus over `store` whose queue targets record the queue each delivery reached, in `sent`. */
function busOver(store: SqliteStore, sent: string[]): EventBus {
  return new EventBus({
    repo: store,
    destinationsRepo: store,
    clock: new FakeClock(Date.UTC(2030, 0, 1)),
    account: ACCOUNT,
    logger: silentLogger,
    targets: {
      invokeAsync: async () => {},
      sendToQueue: async (arn) => void sent.push(arn.split(":").pop()!),
      exists: async () => true,
    },
  });
}

function bus() {
  const store = new SqliteStore(":memory:");
  const sent: string[] = [];
  const events = busOver(store, sent);
  /** Which queues an event of `source` reached, in order. */
  const reached = async (source: string) => {
    sent.length = 0;
    await events.putEvents({ Entries: [{ Source: source, DetailType: "T", Detail: "{}" }] });
    return [...sent];
  };
  const rule = async (name: string, source: string, queue = name) => {
    await events.putRule({ Name: name, EventPattern: JSON.stringify({ source: [source] }) });
    await events.putTargets({ Rule: name, Targets: [{ Id: "t", Arn: queueArn(queue) }] });
  };
  return { events, reached, rule, close: () => store.close() };
}

test("a change to one rule applies at once and leaves the others matching, in name order", async (t) => {
  const b = bus();
  t.after(() => b.close());
  await b.events.start();
  for (const name of ["charlie", "alpha", "bravo"]) await b.rule(name, "shop");
  assert.deepEqual(await b.reached("shop"), ["alpha", "bravo", "charlie"]);

  await b.events.putRule({ Name: "bravo", EventPattern: JSON.stringify({ source: ["billing"] }) });
  assert.deepEqual(await b.reached("shop"), ["alpha", "charlie"]);
  assert.deepEqual(await b.reached("billing"), ["bravo"], "the rule kept its targets");

  await b.events.disableRule({ Name: "alpha" });
  assert.deepEqual(await b.reached("shop"), ["charlie"]);
  await b.events.enableRule({ Name: "alpha" });
  await b.events.putTargets({ Rule: "charlie", Targets: [{ Id: "t", Arn: queueArn("elsewhere") }] });
  assert.deepEqual(await b.reached("shop"), ["alpha", "elsewhere"]);

  await b.events.removeTargets({ Rule: "alpha", Ids: ["t"] });
  await b.events.deleteRule({ Name: "alpha" });
  assert.deepEqual(await b.reached("shop"), ["elsewhere"]);
  assert.deepEqual(await b.reached("billing"), ["bravo"]);
});

test("of two changes to one rule at once, the one made last is the one that matches", async (t) => {
  const b = bus();
  t.after(() => b.close());
  await b.events.start();
  await b.rule("flip", "first");
  await Promise.all([
    b.events.putRule({ Name: "flip", EventPattern: JSON.stringify({ source: ["second"] }) }),
    b.events.putRule({ Name: "flip", EventPattern: JSON.stringify({ source: ["third"] }) }),
  ]);
  assert.deepEqual(await b.reached("second"), []);
  assert.deepEqual(await b.reached("third"), ["flip"]);
});

test("a platform started again compiles the stored rules as they were left", async (t) => {
  const store = new SqliteStore(":memory:");
  t.after(() => store.close());
  const sent: string[] = [];
  const before = busOver(store, sent);
  await before.start();
  for (const name of ["zulu", "yankee"]) {
    await before.putRule({ Name: name, EventPattern: JSON.stringify({ source: ["s"] }) });
    await before.putTargets({ Rule: name, Targets: [{ Id: "t", Arn: queueArn(name) }] });
  }
  await before.disableRule({ Name: "zulu" });
  before.stop();
  const after = busOver(store, sent);
  await after.start();
  await after.putEvents({ Entries: [{ Source: "s", DetailType: "T", Detail: "{}" }] });
  assert.deepEqual(sent, ["yankee"]);
  after.stop();
});
