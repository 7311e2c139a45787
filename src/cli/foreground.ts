/**
 * The platform in the foreground of a terminal, a service manager or `npm start`: it starts,
 * says where it is, and stops cleanly on SIGINT, SIGTERM or SIGHUP, however early the signal
 * comes. A second signal stops it at once. Started by an npm script, it also stops when npm
 * goes without passing a signal on (npm killed with SIGKILL): nothing is left running with no
 * parent. Exit codes: 0 stopped, 1 failed, 3 its port or data directory is taken.
 */
import { createPlatform, type Platform } from "../platform/create-platform.js";
import { PlatformStartError } from "../platform/data-dir-lock.js";
import type { Config } from "../shared/config.js";

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** How often a platform started by npm checks that npm is still its parent. */
const PARENT_CHECK_MS = 1000;
/** Exit code when the port or the data directory is taken. */
export const EXIT_IN_USE = 3;

export async function runForeground(config: Config): Promise<number> {
  let signalled: () => void = () => {};
  let stopRequested = false;
  const stopping = new Promise<void>((resolve) => {
    signalled = resolve;
  });
  let platform: Platform | undefined;
  const onSignal = () => {
    if (stopRequested) {
      process.stdout.write("Nimbus stopped without waiting\n");
      platform?.abort();
      process.exit(130);
    }
    stopRequested = true;
    signalled();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  const parent = watchParent(onSignal);
  try {
    try {
      platform = await createPlatform(config, { env: process.env });
    } catch (err) {
      return failed(err);
    }
    // Instances run in their own process groups: whatever ends this process must end them too.
    const started = platform;
    process.once("exit", () => started.abort());
    let url: string;
    try {
      url = await platform.listen();
    } catch (err) {
      await platform.close();
      return failed(err);
    }
    if (!stopRequested) announce(config, platform, url);
    await stopping;
    process.stdout.write(
      `Nimbus is stopping: letting running invocations finish (up to ${config.shutdownGraceMs} ms; signal again to stop now)\n`,
    );
    await platform.close();
    process.stdout.write("Nimbus stopped\n");
    return 0;
  } finally {
    parent?.stop();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

function failed(err: unknown): number {
  if (!(err instanceof PlatformStartError)) throw err;
  process.stderr.write(`nimbus up: ${err.message}\n`);
  return EXIT_IN_USE;
}

/** Under `npm start` (npm is the parent): calls `gone` once the parent has gone. */
function watchParent(gone: () => void): { stop(): void } | undefined {
  if (process.env.npm_lifecycle_event === undefined) return undefined;
  const ppid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === ppid) return;
    clearInterval(timer);
    process.stdout.write("Nimbus: npm, which started it, has gone: stopping\n");
    gone();
  }, PARENT_CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function announce(config: Config, platform: Platform, url: string): void {
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
      `Auth for apps (Supabase's auth API): ${url}/auth/v1  (its keys: nimbus auth keys; its mail: nimbus auth inbox)`,
      "",
    ].join("\n"),
  );
}
