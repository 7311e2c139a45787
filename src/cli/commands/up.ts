/** `nimbus up`: runs the platform in the foreground until SIGTERM, SIGINT or SIGHUP. */
import { readFile } from "node:fs/promises";
import { type Config, loadConfig } from "../../shared/config.js";
import { NimbusError } from "../../shared/errors.js";
import { runForeground } from "../foreground.js";
import { UsageError } from "../usage-error.js";

/** Its flags by name, as given; loadConfig checks the values with the environment's and the file's. */
export interface UpValues {
  port?: string;
  host?: string;
  data?: string;
  store?: string;
  config?: string;
  "no-auth"?: boolean;
  "keep-alive-ms"?: string;
  "init-timeout-ms"?: string;
  concurrency?: string;
  "log-level"?: string;
  "shutdown-grace-ms"?: string;
  "async-retry-delays-ms"?: string;
  "async-backoff-ms"?: string;
  "pool-size"?: string;
  sandbox?: string;
  "keep-alive-policy"?: string;
  "instance-burst"?: string;
  "instances-per-second"?: string;
  "free-tier"?: boolean;
  "otlp-endpoint"?: string;
}

/** Runs the platform with the flags given (by their names), the environment and the --config file. */
export async function up(values: UpValues): Promise<number> {
  const file = values.config
    ? (JSON.parse(await readFile(values.config, "utf8")) as Record<string, unknown>)
    : {};
  const flags: Record<string, unknown> = {};
  if (values.port !== undefined) flags.port = values.port;
  if (values.host !== undefined) flags.host = values.host;
  if (values.data !== undefined) flags.dataDir = values.data;
  if (values.store !== undefined) flags.store = values.store;
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
  let config: Config;
  try {
    config = loadConfig(process.env, file, flags);
  } catch (err) {
    // A setting out of range is the command line (or its environment, or --config) to change.
    if (err instanceof NimbusError && err.code === "InvalidParameter") throw new UsageError(err.message);
    throw err;
  }
  return runForeground(config);
}
