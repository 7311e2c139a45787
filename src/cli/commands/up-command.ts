/** `nimbus up`'s flags: declared apart from the platform, which only `up` itself loads. */
import { Command } from "commander";
import type { CliContext } from "../context.js";
import type { UpValues } from "./up.js";

/** The flags as commander collects them: camel-cased, `--no-auth` as `auth: false`. */
type Parsed = Record<string, string | boolean | undefined>;

/** Flags whose value is passed on as given, and their environment variable for the help. */
const VALUE_FLAGS: Array<[flag: keyof UpValues, arg: string, help: string]> = [
  ["port", "port", "port to listen on; 0 picks a free one (NIMBUS_PORT, default 9000)"],
  ["host", "host", "address to listen on (NIMBUS_HOST, default 127.0.0.1)"],
  ["data", "dir", "data directory: database, packages, key (NIMBUS_DATA, default .nimbus)"],
  [
    "store",
    "url",
    "where state lives: sqlite (in the data directory), or postgres://user@host:port/db[?schema=name] (NIMBUS_STORE, default sqlite)",
  ],
  ["config", "file", "a JSON file of settings; flags beat the environment, which beats the file"],
  ["keep-alive-ms", "ms", "idle instances stop after this (NIMBUS_KEEP_ALIVE_MS, default 600000)"],
  ["keep-alive-policy", "policy", "fixed, or adaptive: learnt per function (NIMBUS_KEEP_ALIVE_POLICY)"],
  ["init-timeout-ms", "ms", "limit on a function's Init (NIMBUS_INIT_TIMEOUT_MS, default 10000)"],
  ["concurrency", "n", "concurrent executions, all functions together (NIMBUS_CONCURRENCY, default 1000)"],
  ["log-level", "level", "platform log level (NIMBUS_LOG_LEVEL, default info)"],
  [
    "shutdown-grace-ms",
    "ms",
    "how long running invocations may finish on shutdown (NIMBUS_SHUTDOWN_GRACE_MS, default 30000)",
  ],
  [
    "async-retry-delays-ms",
    "a,b",
    "waits before the retries of a failed async event (NIMBUS_ASYNC_RETRY_DELAYS_MS, default 60000,120000)",
  ],
  [
    "async-backoff-ms",
    "min,max",
    "backoff of a throttled async event (NIMBUS_ASYNC_BACKOFF_MS, default 1000,300000)",
  ],
  [
    "pool-size",
    "n",
    "Node runtimes kept started ahead of cold starts; 0 turns it off (NIMBUS_POOL_SIZE, default 2)",
  ],
  [
    "sandbox",
    "driver",
    "the sandbox: auto, jail, gvisor or process (NIMBUS_SANDBOX, default auto: the best available)",
  ],
  [
    "instance-burst",
    "n",
    "new instances one function may start at once (NIMBUS_INSTANCE_BURST, default 100)",
  ],
  [
    "instances-per-second",
    "n",
    "new instances one function may start per second after that (NIMBUS_INSTANCES_PER_SECOND, default 100)",
  ],
  ["otlp-endpoint", "url", "send invocation spans to this OpenTelemetry collector (NIMBUS_OTLP_ENDPOINT)"],
];

export function upCommand(ctx: CliContext): Command {
  const cmd = new Command("up")
    .summary("run the platform in the foreground")
    .description(
      "Run the platform in the foreground until SIGTERM or Ctrl-C. It prints its URL and the access key " +
        "to sign requests with. Each flag also has an environment variable and a key in --config FILE; " +
        "every setting is listed in docs/getting-started.md.",
    );
  for (const [flag, arg, help] of VALUE_FLAGS) cmd.option(`--${flag} <${arg}>`, help);
  return cmd
    .option("--no-auth", "turn SigV4 checks off, for local experiments only (NIMBUS_AUTH=off)")
    .option("--free-tier", "deduct Lambda's monthly free tier from costs (NIMBUS_FREE_TIER)")
    .action(
      ctx.action(async (o: Parsed) => {
        // Loaded only to run: the platform's modules take half a second to import, which every
        // other command would pay for nothing.
        const { up } = await import("./up.js");
        const values: UpValues = { "no-auth": o.auth === false, "free-tier": o.freeTier === true };
        for (const [flag] of VALUE_FLAGS) {
          const v = o[flag.replace(/-(.)/g, (_, c: string) => c.toUpperCase())];
          if (typeof v === "string") (values as Record<string, unknown>)[flag] = v;
        }
        return up(values);
      }),
    );
}
