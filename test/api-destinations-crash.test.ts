/**
 * End to end: kill -9 the platform while clients put events that a rule sends to an API
 * destination, start it again on the same data, and check that every event acknowledged before
 * the kill reached the endpoint (at least once: a request cut by the kill is sent again once
 * its claim lapses, with the same webhook-id).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { Webhook } from "standardwebhooks";
import { resolveClientOptions } from "../src/cli/client.js";
import { exited, startUp } from "./helpers/cli.js";
import { testStore } from "./helpers/store.js";
import { eventually } from "./helpers/wait.js";

const EVENTS = 300;

function eventBridgeOf(dataDir: string): EventBridgeClient {
  const o = resolveClientOptions({ data: dataDir }, {});
  return new EventBridgeClient({
    endpoint: o.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! },
    maxAttempts: 1,
  });
}

test("every event acknowledged before a kill -9 reaches its API destination after the restart", async () => {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const seen = new Set<string>();
  const ids = new Map<string, string>();
  let forged = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const event = new Webhook(secret).verify(
          Buffer.concat(chunks).toString(),
          req.headers as Record<string, string>,
        ) as {
          detail: { key: string };
        };
        seen.add(event.detail.key);
        // A repeat after the restart carries the webhook-id it had.
        const id = String(req.headers["webhook-id"]);
        if (ids.has(event.detail.key)) assert.equal(ids.get(event.detail.key), id);
        ids.set(event.detail.key, id);
      } catch {
        forged++;
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-hooks-crash-"));
  chmodSync(dataDir, 0o711);
  const { store, drop } = await testStore();
  let up = startUp(dataDir, "--store", store);
  try {
    await up.out.waitFor(/Nimbus is running at/);
    const eb = eventBridgeOf(dataDir);
    const conn = await eb.send(
      new CreateConnectionCommand({
        Name: "hooks",
        AuthorizationType: "API_KEY",
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: "webhook-signature", ApiKeyValue: secret } },
      }),
    );
    const dest = await eb.send(
      new CreateApiDestinationCommand({
        Name: "hook",
        ConnectionArn: conn.ConnectionArn,
        InvocationEndpoint: endpoint,
        HttpMethod: "POST",
      }),
    );
    await eb.send(new PutRuleCommand({ Name: "all", EventPattern: JSON.stringify({ source: ["shop"] }) }));
    await eb.send(
      new PutTargetsCommand({ Rule: "all", Targets: [{ Id: "hook", Arn: dest.ApiDestinationArn! }] }),
    );

    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const putter = async () => {
      while (!killed && next < EVENTS) {
        const key = `e-${next++}`;
        try {
          const out = await eb.send(
            new PutEventsCommand({
              Entries: [{ Source: "shop", DetailType: "Order Placed", Detail: JSON.stringify({ key }) }],
            }),
          );
          if (out.FailedEntryCount === 0) acknowledged.push(key);
        } catch {
          // The connection died with the platform: not acknowledged, so not promised.
        }
        if (acknowledged.length === EVENTS / 2 && !killed) {
          killed = true;
          up.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, putter));
    await exited(up.child);
    eb.destroy();
    assert.ok(acknowledged.length >= EVENTS / 2, `only ${acknowledged.length} acknowledged`);

    up = startUp(dataDir, "--store", store);
    await up.out.waitFor(/Nimbus is running at/);
    // Requests cut by the kill come back when their 10 s claim lapses.
    await eventually(
      () => acknowledged.filter((k) => !seen.has(k)),
      (lost) => lost.length === 0,
      { what: "every acknowledged event at the endpoint", timeoutMs: 30_000, everyMs: 100 },
    );
    assert.equal(forged, 0, "every request verified");
  } finally {
    if (up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
    server.close();
    await rm(dataDir, { recursive: true, force: true });
    await drop();
  }
});
