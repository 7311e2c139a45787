/**
 * End to end through the `nimbus` command, against a real platform: queues made, fed, read and
 * removed with `nimbus queues …`; a schedule made for a function, listed, shown, disabled and
 * removed with `nimbus schedules …`; events put with `nimbus events put` and followed by a
 * running `nimbus events tail`; the platform's own words when it refuses.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { cliEnv, exited, NIMBUS, nimbus, output } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
let cli: (...args: string[]) => ReturnType<typeof nimbus>;
let account: string;

before(async () => {
  t = await startPlatform();
  cli = (...args) => nimbus(t.dataDir, ...args);
  account = t.platform.config.accountId;
  await createNodeFunction(t.lambda, "cli-nightly", "export const handler = async (e) => e;");
});

after(async () => {
  await t.close();
});

describe("nimbus queues", () => {
  test("create, send, receive (which deletes, unless --keep), attributes, rm", async () => {
    const created = await cli("queues", "create", "cli-orders", "--attribute", "VisibilityTimeout=45");
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${account}/cli-orders\\n$`));

    const sent = await cli("queues", "send", "cli-orders", "first order", "--attribute", "kind=test");
    assert.equal(sent.code, 0, sent.stderr);
    const id = sent.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);

    const listed = await cli("queues", "ls");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+MESSAGES\s+IN-FLIGHT\s+DELAYED$/m);
    assert.match(listed.stdout, /^cli-orders\s+1\s+0\s+0$/m);

    const kept = await cli("queues", "receive", "cli-orders", "--keep");
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout, `${id}  kind=test\nfirst order\n`);

    const received = await cli("queues", "receive", "cli-orders", "--max", "10", "--json");
    assert.equal(received.code, 0, received.stderr);
    const { Messages } = JSON.parse(received.stdout) as {
      Messages: Array<{ MessageId: string; Body: string; Attributes: Record<string, string> }>;
    };
    assert.deepEqual(
      Messages.map((m) => [m.MessageId, m.Body, m.Attributes.ApproximateReceiveCount]),
      [[id, "first order", "2"]],
      "--keep left it in the queue, visible again at once",
    );

    const empty = await cli("queues", "receive", "cli-orders");
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, "");
    assert.equal(empty.stderr, "no messages\n", "the receive without --keep deleted it");

    const attrs = await cli("queues", "attributes", "cli-orders");
    assert.equal(attrs.code, 0, attrs.stderr);
    assert.match(attrs.stdout, new RegExp(`^QueueArn\\s+arn:aws:sqs:us-east-1:${account}:cli-orders$`, "m"));
    assert.match(attrs.stdout, /^VisibilityTimeout\s+45$/m);
    assert.match(attrs.stdout, /^ApproximateNumberOfMessages\s+0$/m);

    const removed = await cli("queues", "rm", "cli-orders");
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, "deleted the queue cli-orders\n");
    const remaining = await cli("queues", "ls", "--json");
    assert.equal(remaining.code, 0, remaining.stderr);
    const { QueueUrls } = JSON.parse(remaining.stdout) as { QueueUrls: string[] };
    assert.equal(
      QueueUrls.some((u) => u.endsWith("/cli-orders")),
      false,
    );
  });

  test("a FIFO queue takes its group and deduplication id", async () => {
    assert.equal((await cli("queues", "create", "cli-pay.fifo", "--fifo")).code, 0);
    const sent = await cli("queues", "send", "cli-pay.fifo", "one", "--group", "g1", "--dedup", "d1");
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^\S+ \(sequence \d+\)\n$/);
    const received = await cli("queues", "receive", "cli-pay.fifo");
    assert.match(received.stdout, /^\S+ {2}group=g1\none\n$/);
  });

  test("a bad queue name, and a queue that does not exist, fail with the platform's message", async () => {
    const bad = await cli("queues", "create", "bad name!");
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^error: InvalidParameterValue: Can only include alphanumeric characters, hyphens, or underscores\. 1 to 80 in length \(queue name "bad name!"\)\. \(HTTP 400\)\n$/,
    );
    const missing = await cli("queues", "send", "cli-nosuch", "x");
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: QueueDoesNotExist: The specified queue does not exist\. \(HTTP 400\)\n$/,
    );
  });
});

describe("nimbus schedules", () => {
  const fnArn = () => `arn:aws:lambda:us-east-1:${account}:function:cli-nightly`;

  test("create for a function by its name, ls, get, disable (the rest kept), rm", async () => {
    const created = await cli(
      "schedules",
      "create",
      "cli-nightly",
      "--expression",
      "cron(0 2 * * ? *)",
      "--target",
      "cli-nightly",
      "--input",
      '{"full":true}',
      "--timezone",
      "Europe/Paris",
      "--flexible",
      "15",
    );
    assert.equal(created.code, 0, created.stderr);
    assert.equal(
      created.stdout,
      `created the schedule cli-nightly: arn:aws:scheduler:us-east-1:${account}:schedule/default/cli-nightly\n`,
    );

    const listed = await cli("schedules", "ls");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+GROUP\s+STATE\s+EXPRESSION\s+TARGET$/m);
    assert.match(listed.stdout, /^cli-nightly\s+default\s+ENABLED\s+cron\(0 2 \* \* \? \*\)\s+cli-nightly$/m);

    const shown = await cli("schedules", "get", "cli-nightly");
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^cli-nightly \(group default\)$/m);
    assert.match(shown.stdout, /^ {2}expression\s+cron\(0 2 \* \* \? \*\) \(Europe\/Paris\)$/m);
    assert.match(shown.stdout, new RegExp(`^  target\\s+${fnArn()}$`, "m"));
    assert.match(shown.stdout, /^ {2}input\s+\{"full":true\}$/m);
    assert.match(shown.stdout, /^ {2}window\s+flexible, up to 15 minutes$/m);

    const initial = JSON.parse((await cli("schedules", "get", "cli-nightly", "--json")).stdout) as Record<
      string,
      unknown
    >;
    assert.deepEqual(initial.Target, {
      Arn: fnArn(),
      RoleArn: `arn:aws:iam::${account}:role/nimbus-scheduler`,
      Input: '{"full":true}',
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
    });

    const disabled = await cli("schedules", "disable", "cli-nightly");
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.stdout, "disabled the schedule cli-nightly\n");
    const afterDisable = JSON.parse(
      (await cli("schedules", "get", "cli-nightly", "--json")).stdout,
    ) as Record<string, unknown>;
    const { State, LastModificationDate, ...rest } = afterDisable;
    const { State: wasState, LastModificationDate: _m, ...wasRest } = initial;
    assert.deepEqual([wasState, State], ["ENABLED", "DISABLED"]);
    assert.deepEqual(rest, wasRest, "everything but the state is as it was");
    const filtered = await cli("schedules", "ls", "--state", "DISABLED");
    assert.match(filtered.stdout, /^cli-nightly\s+default\s+DISABLED\s/m);

    const removed = await cli("schedules", "rm", "cli-nightly");
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, "deleted the schedule cli-nightly\n");
    const gone = await cli("schedules", "get", "cli-nightly");
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /^error: ResourceNotFoundException: Schedule cli-nightly does not exist\. \(HTTP 404\)\n$/,
    );
  });

  test("a bad cron expression fails with the platform's message, and nothing is created", async () => {
    const bad = await cli(
      "schedules",
      "create",
      "cli-bad",
      "--expression",
      "cron(0 2 * * *)",
      "--target",
      "cli-nightly",
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^error: ValidationException: Invalid Schedule Expression cron\(0 2 \* \* \*\)\. \(.+\) \(HTTP 400\)\n$/,
    );
    assert.equal((await cli("schedules", "get", "cli-bad")).code, 1);
  });
});

describe("nimbus events", () => {
  /** Starts `nimbus events tail …` and resolves once it follows the bus (it says so on stderr). */
  async function startTail(
    ...args: string[]
  ): Promise<{ child: ChildProcess; out: ReturnType<typeof output> }> {
    const child = spawn(process.execPath, [NIMBUS, "events", "tail", ...args], {
      env: cliEnv(t.dataDir),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = output(child);
    let err = "";
    await new Promise<void>((ready, fail) => {
      child.stderr!.on("data", (c: Buffer) => {
        err += c.toString();
        if (err.includes("following the bus")) ready();
      });
      child.once("exit", (code) => fail(new Error(`tail exited (${code}) before following: ${err}`)));
    });
    return { child, out };
  }

  test("put prints the event's id; tail with a pattern prints the matching event and only it", async () => {
    const { child, out } = await startTail("--pattern", '{"source":["cli.orders"]}', "--json");
    try {
      const other = await cli(
        "events",
        "put",
        "--source",
        "cli.other",
        "--detail-type",
        "Noise",
        "--detail",
        "{}",
      );
      assert.equal(other.code, 0, other.stderr);
      const put = await cli(
        "events",
        "put",
        "--source",
        "cli.orders",
        "--detail-type",
        "OrderPlaced",
        "--detail",
        '{"id":42}',
        "--resource",
        "arn:aws:example:order/42",
      );
      assert.equal(put.code, 0, put.stderr);
      const id = put.stdout.trim();
      assert.match(id, /^[0-9a-f-]{36}$/);
      await out.waitFor(new RegExp(id));
      // The other event was accepted first: had it matched, it would have come first.
      const lines = out.text.trim().split("\n");
      assert.equal(lines.length, 1, out.text);
      const event = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.deepEqual(
        [event.id, event.source, event["detail-type"], event.detail, event.resources],
        [id, "cli.orders", "OrderPlaced", { id: 42 }, ["arn:aws:example:order/42"]],
      );
    } finally {
      child.kill("SIGINT");
      await exited(child);
    }
  });

  test("tail prints a header line and the detail for people", async () => {
    const { child, out } = await startTail("--pattern", '{"source":["cli.pretty"]}');
    try {
      await cli("events", "put", "--source", "cli.pretty", "--detail-type", "Shown", "--detail", '{"a":1}');
      await out.waitFor(/\{\n {4}"a": 1\n {2}\}\n/);
      assert.match(
        out.text,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}cli\.pretty {2}Shown\n {2}\{\n {4}"a": 1\n {2}\}\n$/,
      );
    } finally {
      child.kill("SIGINT");
      await exited(child);
    }
  });

  test("a refused entry, a bad pattern and an unknown bus fail with the platform's message", async () => {
    const malformed = await cli(
      "events",
      "put",
      "--source",
      "s",
      "--detail-type",
      "T",
      "--detail",
      "not json",
    );
    assert.equal(malformed.code, 1);
    assert.equal(malformed.stdout, "");
    assert.equal(malformed.stderr, "error: MalformedDetail: Detail is malformed.\n");

    const pattern = await cli("events", "tail", "--pattern", '{"source":"x"}');
    assert.equal(pattern.code, 1);
    assert.match(
      pattern.stderr,
      /^error: Event pattern is not valid\. Reason: Event pattern is not valid at "source": .+ \(HTTP 400\)\n$/,
    );

    const bus = await cli("events", "tail", "--bus", "cli-nosuch");
    assert.equal(bus.code, 1);
    assert.match(bus.stderr, /^error: Event bus cli-nosuch does not exist\. \(HTTP 404\)\n$/);
  });
});
