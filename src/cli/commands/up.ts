/** `nimbus up`: runs the platform in the foreground until SIGTERM or SIGINT. */
import { readFile } from "node:fs/promises";
import { createPlatform } from "../../platform/create-platform.js";
import { loadConfig } from "../../shared/config.js";

/** Its flags by name, as given; loadConfig checks the values with the environment's and the file's. */
export interface UpValues {
  port?: string;
  host?: string;
  data?: string;
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
  const config = loadConfig(process.env, file, flags);
  const platform = await createPlatform(config, { env: process.env });
  // Instances run in their own process groups: whatever ends this process must end them too.
  process.once("exit", () => platform.abort());
  const url = await platform.listen();
  const { accessKeyId, secretAccessKey } = platform.credentials;
  const keyNote =
    platform.credentialsSource === "environment"
      ? "from NIMBUS_ACCESS_KEY_ID / NIMBUS_SECRET_ACCESS_KEY"
      : `stored in ${config.dataDir}/credentials.json`;
  process.stdout.write(
    [
      `Nimbus is running at ${url}  (data: ${config.dataDir})`,
      config.auth === "off"
        ? "Signature checks are OFF (--no-auth): anyone who can reach the port can deploy and invoke."
        : `Requests must be signed with AWS Signature V4 using this key (${keyNote}):`,
      `  export AWS_ENDPOINT_URL_LAMBDA=${url}`,
      `  export AWS_ACCESS_KEY_ID=${accessKeyId}`,
      `  export AWS_SECRET_ACCESS_KEY=${secretAccessKey}`,
      `  export AWS_REGION=${config.region}`,
      'Then: nimbus deploy ./examples/hello --name hello && nimbus invoke hello --payload \'{"name":"Ada"}\'',
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  process.stdout.write(
    `Nimbus is stopping: letting running invocations finish (up to ${config.shutdownGraceMs} ms; signal again to stop now)\n`,
  );
  const again = () => {
    process.stdout.write("Nimbus stopped without waiting\n");
    process.exit(130);
  };
  process.once("SIGTERM", again);
  process.once("SIGINT", again);
  await platform.close();
  process.stdout.write("Nimbus stopped\n");
  return 0;
}
