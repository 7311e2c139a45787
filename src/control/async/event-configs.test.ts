/** Asynchronous invocation settings: typed specs, Lambda's defaults, destinations that must exist. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import type { Registry } from "../registry/registry.js";
import { EventConfigs } from "./event-configs.js";
import type { EventConfigsRepo, EventInvokeConfig } from "./event-configs-repo.js";

const ARN = "arn:aws:lambda:us-east-1:000000000000:function";

/** Functions and their qualifiers; any other reference is not found, as the registry says. */
function configs(functions: Record<string, string[]>) {
  const stored = new Map<string, EventInvokeConfig>();
  const store: EventConfigsRepo = {
    getEventInvokeConfig: async (f, q) => stored.get(`${f}:${q}`),
    listEventInvokeConfigs: async (f) => [...stored.values()].filter((c) => c.functionName === f),
    putEventInvokeConfig: async (c) => void stored.set(`${c.functionName}:${c.qualifier}`, c),
    deleteEventInvokeConfig: async (f, q) => stored.delete(`${f}:${q}`),
  };
  const registry: Pick<Registry, "resolve" | "arn"> = {
    arn: (name, qualifier) => `${ARN}:${name}${qualifier ? `:${qualifier}` : ""}`,
    resolve: async (name, qualifier) => {
      const known = functions[name];
      if (!known || (qualifier !== undefined && !known.includes(qualifier)))
        throw new NimbusError("NotFound", `Function not found: ${name}`);
      return {} as Awaited<ReturnType<Registry["resolve"]>>;
    },
  };
  const clock = new FakeClock(5_000);
  const queues = { describe: async (arn: string) => QUEUES[arn] };
  return { events: new EventConfigs({ store, registry, clock, queues }), stored };
}

const QUEUE = "arn:aws:sqs:us-east-1:000000000000";
/** The queues the platform has, by ARN. */
const QUEUES: Record<string, { fifo: boolean }> = {
  [`${QUEUE}:failures`]: { fifo: false },
  [`${QUEUE}:ordered.fifo`]: { fifo: true },
};

test("put sets what it is given, Lambda's defaults for the rest, and stores destinations as function ARNs", async () => {
  const { events } = configs({ resize: ["live"], audit: ["2"] });
  const config = await events.put("resize", "live", {
    maximumRetryAttempts: 0,
    onSuccess: { functionName: "audit", qualifier: "2" },
  });
  assert.deepEqual(config, {
    functionName: "resize",
    qualifier: "live",
    maximumRetryAttempts: 0,
    maximumEventAgeInSeconds: 21_600,
    onSuccess: `${ARN}:audit:2`,
    onFailure: undefined,
    lastModified: 5_000,
  });
  assert.deepEqual(await events.get("resize", "live"), config);
  assert.equal((await events.put("resize", undefined, {})).qualifier, "$LATEST");
});

test("update keeps what the spec leaves out and removes a destination set to null", async () => {
  const { events } = configs({ resize: [], audit: [], dead: [] });
  await events.put("resize", undefined, {
    maximumRetryAttempts: 1,
    onSuccess: { functionName: "audit" },
    onFailure: { functionName: "dead" },
  });
  const updated = await events.update("resize", undefined, { maximumEventAgeInSeconds: 60, onSuccess: null });
  assert.equal(updated.maximumRetryAttempts, 1);
  assert.equal(updated.maximumEventAgeInSeconds, 60);
  assert.equal(updated.onSuccess, undefined);
  assert.equal(updated.onFailure, `${ARN}:dead`);
});

test("values out of range are all refused at once, field by field, and nothing is stored", async () => {
  const { events, stored } = configs({ resize: [] });
  const err = await events
    .put("resize", undefined, { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 59.5 })
    .catch((e: unknown) => e);
  assert.ok(err instanceof NimbusError && err.code === "InvalidParameter");
  assert.deepEqual(
    err.problems.map((p) => [p.field, p.value, p.rule, p.expected]),
    [
      ["maximumRetryAttempts", 3, "range", "be an integer from 0 to 2"],
      ["maximumEventAgeInSeconds", 59.5, "range", "be an integer from 60 to 21600"],
    ],
  );
  assert.equal(stored.size, 0);
});

test("a destination that does not exist is refused by its ARN; a function that does not exist is not found", async () => {
  const { events } = configs({ resize: [], audit: [] });
  const err = await events
    .put("resize", undefined, { onFailure: { functionName: "audit", qualifier: "9" } })
    .catch((e: unknown) => e);
  assert.ok(err instanceof NimbusError && err.code === "InvalidParameter");
  assert.equal(err.message, `The destination ${ARN}:audit:9 for onFailure does not exist.`);
  assert.deepEqual(
    err.problems.map((p) => [p.field, p.rule]),
    [["onFailure", "exists"]],
  );
  await assert.rejects(events.put("ghost", undefined, {}), { code: "NotFound" });
  await assert.rejects(
    events.get("resize", undefined),
    /The function resize:\$LATEST has no event invoke config/,
  );
});

test("a destination may be a standard queue, stored by its ARN; a missing or FIFO queue is refused by its ARN", async () => {
  const { events, stored } = configs({ resize: [] });
  const config = await events.put("resize", undefined, { onFailure: { queueArn: `${QUEUE}:failures` } });
  assert.equal(config.onFailure, `${QUEUE}:failures`);
  const missing = await events
    .put("resize", undefined, { onSuccess: { queueArn: `${QUEUE}:ghost` } })
    .catch((e: unknown) => e);
  assert.ok(missing instanceof NimbusError && missing.code === "InvalidParameter");
  assert.equal(missing.message, `The destination ${QUEUE}:ghost for onSuccess does not exist.`);
  assert.deepEqual(
    missing.problems.map((p) => [p.field, p.rule]),
    [["onSuccess", "exists"]],
  );
  const fifo = await events
    .update("resize", undefined, { onFailure: { queueArn: `${QUEUE}:ordered.fifo` } })
    .catch((e: unknown) => e);
  assert.ok(fifo instanceof NimbusError && fifo.code === "InvalidParameter");
  assert.match(
    fifo.message,
    /ordered\.fifo for onFailure is a FIFO queue: FIFO queues cannot be destinations/,
  );
  assert.equal(stored.get("resize:$LATEST")?.onFailure, `${QUEUE}:failures`, "a refusal changes nothing");
});
