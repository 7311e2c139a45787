/**
 * End to end: kill -9 the platform while clients send messages, start it again on the same
 * data, and check that every message SendMessage acknowledged is there to receive.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { resolveClientOptions } from "../src/cli/client.js";
import { exited, startUp } from "./helpers/cli.js";
import { testStore } from "./helpers/store.js";

const MESSAGES = 300;

function clientOf(dataDir: string): SQSClient {
  const o = resolveClientOptions({ data: dataDir }, {});
  return new SQSClient({
    endpoint: o.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! },
    maxAttempts: 1,
  });
}

test("every message acknowledged before a kill -9 is received after the restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-sqs-crash-"));
  chmodSync(dataDir, 0o711);
  const { store, drop } = await testStore();
  let up = startUp(dataDir, "--store", store);
  try {
    await up.out.waitFor(/Nimbus is running at/);
    const sqs = clientOf(dataDir);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "kept" }));
    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (!killed && next < MESSAGES) {
        const n = next++;
        try {
          const out = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `message ${n}` }));
          if (out.MessageId) acknowledged.push(out.MessageId);
        } catch {
          // The connection died with the platform: not acknowledged, so not promised.
        }
        if (acknowledged.length === MESSAGES / 2 && !killed) {
          killed = true;
          up.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, sender));
    await exited(up.child);
    sqs.destroy();
    assert.ok(acknowledged.length >= MESSAGES / 2, `only ${acknowledged.length} acknowledged`);

    up = startUp(dataDir, "--store", store);
    await up.out.waitFor(/Nimbus is running at/);
    const again = clientOf(dataDir);
    const url = (await again.send(new CreateQueueCommand({ QueueName: "kept" }))).QueueUrl;
    const received = new Set<string>();
    for (;;) {
      const got = await again.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      const messages = got.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) received.add(m.MessageId!);
      await again.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    again.destroy();
    const lost = acknowledged.filter((id) => !received.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged messages were lost`);
  } finally {
    if (up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
    await rm(dataDir, { recursive: true, force: true });
    await drop();
  }
});
