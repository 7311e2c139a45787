/** `nimbus up`: runs the platform in the foreground until SIGTERM, SIGINT or SIGHUP. */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.js";
import { runForeground } from "../foreground.js";

export async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      data: { type: "string" },
      config: { type: "string" },
      "no-auth": { type: "boolean" },
      "keep-alive-ms": { type: "string" },
      "init-timeout-ms": { type: "string" },
      concurrency: { type: "string" },
      "log-level": { type: "string" },
      "shutdown-grace-ms": { type: "string" },
      "async-retry-delays-ms": { type: "string" },
      "async-backoff-ms": { type: "string" },
      "pool-size": { type: "string" },
      sandbox: { type: "string" },
      "keep-alive-policy": { type: "string" },
      "instance-burst": { type: "string" },
      "instances-per-second": { type: "string" },
      "free-tier": { type: "boolean" },
      "otlp-endpoint": { type: "string" },
    },
  });
  const file = values.config
    ? (JSON.parse(await readFile(values.config, "utf8")) as Record<string, unknown>)
    : {};
  const flags: Record<string, unknown> = {};
  if (values.port !== undefined) flags.port = values.port;
  if (values.host !== undefined) flags.host = values.host;
  if (values.data !== undefined) flags.dataDir = values.data;
  if (values["no-auth"]) flags.auth = "off";
  if (values["keep-alive-ms"] !== undefined) flags.keepAliveMs = values["keep-alive-ms"];
  if (values["init-timeout-ms"] !== undefined) flags.initTimeoutMs = values["init-timeout-ms"];
  if (values.concurrency !== undefined) flags.accountConcurrency = values.concurrency;
  if (values["log-level"] !== undefined) flags.logLevel = values["log-level"];
  if (values["shutdown-grace-ms"] !== undefined) flags.shutdownGraceMs = values["shutdown-grace-ms"];
  if (values["async-retry-delays-ms"] !== undefined)
    flags.asyncRetryDelaysMs = values["async-retry-delays-ms"];
  if (values["async-backoff-ms"] !== undefined) flags.asyncBackoffMs = values["async-backoff-ms"];
  if (values["pool-size"] !== undefined) flags.poolSize = values["pool-size"];
  if (values.sandbox !== undefined) flags.sandbox = values.sandbox;
  if (values["keep-alive-policy"] !== undefined) flags.keepAlivePolicy = values["keep-alive-policy"];
  if (values["instance-burst"] !== undefined) flags.instanceBurst = values["instance-burst"];
  if (values["instances-per-second"] !== undefined) flags.instancesPerSecond = values["instances-per-second"];
  if (values["free-tier"]) flags.freeTier = true;
  if (values["otlp-endpoint"] !== undefined) flags.otlpEndpoint = values["otlp-endpoint"];
  return runForeground(loadConfig(process.env, file, flags));
}
