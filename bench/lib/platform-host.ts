/**
 * Child-process entry: runs the real platform (port 0, temporary data directory unless the
 * settings name one, silent logger) so that the bench's load generator never shares its event loop. Talks to the bench
 * over the IPC channel: one "ready" message, then answers "pids" and "close".
 */
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlatform } from "../../src/platform/create-platform.js";
import { loadConfig } from "../../src/shared/config.js";
import { silentLogger } from "../../src/shared/logger.js";
import type { HostReply, HostRequest } from "./platform.js";

const send = (m: HostReply) => process.send!(m);

const settings = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
// A figure may hand over a data directory it filled (the storage listing's million keys): the
// platform owns it from then on, and removes it at close as it would its own.
const dataDir =
  typeof settings.dataDir === "string" ? settings.dataDir : mkdtempSync(join(tmpdir(), "nimbus-bench-"));
// Sandboxes run as their own uids when the platform runs as root: they must traverse this.
chmodSync(dataDir, 0o711);
const platform = await createPlatform(loadConfig({}, {}, { ...settings, port: 0, dataDir }), {
  logger: silentLogger,
});
const url = await platform.listen();

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  closing ??= (async () => {
    await platform.close();
    await rm(dataDir, { recursive: true, force: true });
  })();
  return closing;
}

process.on("message", (m: HostRequest) => {
  switch (m.type) {
    case "pids":
      send({ type: "pids", pids: platform.worker.instancePids() });
      return;
    case "pool":
      send({ type: "pool", ready: platform.worker.pooledReady() });
      return;
    case "close":
      void close().then(() => {
        send({ type: "closed" });
        process.disconnect();
      });
      return;
  }
});
// The bench died without saying goodbye: still stop the instances and remove the data.
process.on("disconnect", () => void close().then(() => process.exit(0)));

send({ type: "ready", url, credentials: platform.credentials });
