/** Starts the real platform on port 0 with a temporary data directory, for end-to-end tests. */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import yazl from "yazl";
import { createPlatform, type Platform } from "../../src/platform/create-platform.js";
import type { Clock } from "../../src/shared/clock.js";
import { loadConfig } from "../../src/shared/config.js";
import { silentLogger } from "../../src/shared/logger.js";
import { testStore } from "./store.js";

export interface TestPlatform {
  readonly platform: Platform;
  readonly url: string;
  readonly dataDir: string;
  readonly lambda: LambdaClient;
  close(): Promise<void>;
}

export async function startPlatform(
  settings: Record<string, unknown> = {},
  clock?: Clock,
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-test-"));
  // Sandboxes run as other uids when the tests run as root: they must be able to traverse here.
  chmodSync(dataDir, 0o711);
  // NIMBUS_TEST_SANDBOX runs the suite under another driver (the default is the platform's own choice).
  const sandbox = process.env.NIMBUS_TEST_SANDBOX;
  // NIMBUS_TEST_STORE=postgres runs it on PostgreSQL, a schema per platform.
  const { store, drop } = await testStore();
  const config = loadConfig(
    {},
    {},
    { port: 0, dataDir, store, ...(sandbox ? { sandbox } : {}), ...settings },
  );
  const platform = await createPlatform(config, { logger: silentLogger, ...(clock ? { clock } : {}) });
  const url = await platform.listen();
  const lambda = new LambdaClient({
    endpoint: url,
    region: "us-east-1",
    credentials: platform.credentials,
    maxAttempts: 1,
  });
  return {
    platform,
    url,
    dataDir,
    lambda,
    async close() {
      lambda.destroy();
      await platform.close();
      await rm(dataDir, { recursive: true, force: true });
      await drop();
    },
  };
}

export type ZipFiles = Record<string, string | Buffer | { content: string | Buffer; mode: number }>;

/** Builds a zip in memory from file contents. */
export function zipOf(files: ZipFiles): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, f] of Object.entries(files)) {
    const { content, mode } = typeof f === "string" || Buffer.isBuffer(f) ? { content: f, mode: 0o644 } : f;
    zip.addBuffer(Buffer.from(content), name, { mode, mtime: new Date(0) });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}

/** Every file under a directory, as ZipFiles entries under `prefix`. */
export function filesUnder(dir: string, prefix: string): ZipFiles {
  const out: ZipFiles = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[`${prefix}/${relative(dir, p)}`] = { content: readFileSync(p), mode: st.mode & 0o777 };
    }
  };
  walk(dir);
  return out;
}

export function text(payload: Uint8Array | undefined): string {
  return Buffer.from(payload ?? new Uint8Array()).toString("utf8");
}

/** Creates a Node function whose index.mjs is `code`, through the SDK; `extra` adds to the request. */
/**
 * Creates a `provided.al2023` function whose runtime is `runtime`, a Node module the bootstrap
 * runs (`runtime.mjs`): a runtime speaking the HTTP Runtime API by hand, as a test needs it to.
 */
export async function createNodeRuntimeFunction(
  lambda: LambdaClient,
  name: string,
  runtime: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "provided.al2023",
      Handler: "x",
      Role: "arn:aws:iam::000000000000:role/test",
      Code: {
        ZipFile: await zipOf({
          bootstrap: { content: '#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/runtime.mjs"\n', mode: 0o755 },
          "runtime.mjs": runtime,
        }),
      },
      ...extra,
    }),
  );
}

export async function createNodeFunction(
  lambda: LambdaClient,
  name: string,
  code: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: await zipOf({ "index.mjs": code }) },
      ...extra,
    }),
  );
}
