/**
 * End to end: kill -9 the platform while clients put objects into a bucket whose notification
 * configuration invokes a function, start it again on the same data, and check that every put
 * acknowledged before the kill produced its event: the function ran with its key.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NimbusClient, resolveClientOptions } from "../src/cli/client.js";
import { exited, nimbus, startUp } from "./helpers/cli.js";
import { testStore } from "./helpers/store.js";

const PUTS = 300;

function s3Of(dataDir: string): S3Client {
  const o = resolveClientOptions({ data: dataDir }, {});
  return new S3Client({
    endpoint: `${o.endpoint}/s3`,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! },
    maxAttempts: 1,
  });
}

test("every put acknowledged before a kill -9 produces its event after the restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-s3-events-crash-"));
  chmodSync(dataDir, 0o711);
  const fnDir = mkdtempSync(join(tmpdir(), "nimbus-s3-events-fn-"));
  writeFileSync(
    join(fnDir, "index.mjs"),
    `export const handler = async (e) => (e.Records ? e.Records[0].s3.object.key : e.Event);`,
  );
  const { store, drop } = await testStore();
  // A run that fails on a loaded machine is retried in 100 ms: the test is about events kept.
  const flags = ["--store", store, "--async-retry-delays-ms", "100,100"];
  let up = startUp(dataDir, ...flags);
  try {
    await up.out.waitFor(/Nimbus is running at/);
    assert.equal((await nimbus(dataDir, "deploy", fnDir, "--name", "recorder")).code, 0);
    const s3 = s3Of(dataDir);
    await s3.send(new CreateBucketCommand({ Bucket: "kept" }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "kept",
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Id: "all",
              LambdaFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:recorder",
              Events: ["s3:ObjectCreated:*"],
            },
          ],
        },
      }),
    );

    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const putter = async () => {
      while (!killed && next < PUTS) {
        const key = `objects/${next++}`;
        try {
          await s3.send(new PutObjectCommand({ Bucket: "kept", Key: key, Body: key }));
          acknowledged.push(key);
        } catch {
          // The connection died with the platform: not acknowledged, so not promised.
        }
        if (acknowledged.length === PUTS / 2 && !killed) {
          killed = true;
          up.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, putter));
    await exited(up.child);
    s3.destroy();
    assert.ok(acknowledged.length >= PUTS / 2, `only ${acknowledged.length} acknowledged`);

    up = startUp(dataDir, ...flags);
    await up.out.waitFor(/Nimbus is running at/);
    const restarted = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));
    let seen = new Set<unknown>();
    for (let i = 0; i < 600 && acknowledged.some((k) => !seen.has(k)); i++) {
      const res = await restarted.call("GET", "/nimbus/v1/invocations", {
        query: { function: "recorder", status: "succeeded", limit: "1000" },
      });
      const body = (await res.json()) as { invocations: { result: unknown }[] };
      seen = new Set(body.invocations.map((r) => r.result));
      if (acknowledged.some((k) => !seen.has(k))) await new Promise((r) => setTimeout(r, 50));
    }
    const lost = acknowledged.filter((k) => !seen.has(k));
    assert.deepEqual(
      lost,
      [],
      `${lost.length} of ${acknowledged.length} acknowledged puts produced no event`,
    );
  } finally {
    if (up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
    await rm(dataDir, { recursive: true, force: true });
    await rm(fnDir, { recursive: true, force: true });
    await drop();
  }
});
