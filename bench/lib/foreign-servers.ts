/**
 * The HTTP figure's baselines that are other projects' servers: workerd serving the answer from
 * a Worker, and serverless-offline serving it from a Lambda handler. Both are installed on
 * demand, at pinned versions, into bench/.tools/ (outside git, never a dependency of Nimbus),
 * and each one that cannot be installed or started is reported as unavailable with the reason,
 * so the figure still runs without it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./proc.js";

/** Pinned, so that figures from two days compare the same servers. */
export const TOOL_VERSIONS = {
  workerd: "1.20261123.1",
  // serverless v4 requires a login to its dashboard; v3 is the last that runs offline alone,
  // and serverless-offline 13 is the last major that supports it.
  serverless: "3.40.0",
  "serverless-offline": "13.9.0",
} as const;

const TOOLS_DIR = fileURLToPath(new URL("../../../bench/.tools/", import.meta.url));
const INSTALL_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 60_000;

/** A server started for the figure, or why there is none. */
export type Foreign =
  | { readonly ok: true; readonly url: URL; readonly pid: number; close(): void }
  | { readonly ok: false; readonly reason: string };

/**
 * Installs `packages` into bench/.tools/<prefix>/ unless that prefix already holds them at their
 * pinned versions. npm keeps this process's environment: the registry may need its CA.
 */
async function ensureInstalled(prefix: string, packages: readonly (keyof typeof TOOL_VERSIONS)[]) {
  const dir = join(TOOLS_DIR, prefix);
  const installed = (name: string) => {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8"));
      return (pkg as { version?: string }).version;
    } catch {
      return undefined;
    }
  };
  if (packages.every((p) => installed(p) === TOOL_VERSIONS[p])) return dir;
  mkdirSync(dir, { recursive: true });
  const specs = packages.map((p) => `${p}@${TOOL_VERSIONS[p]}`);
  await new Promise<void>((resolve, reject) =>
    execFile(
      "npm",
      ["install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", ...specs],
      { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, _out, stderr) =>
        err
          ? reject(new Error(`npm install ${specs.join(" ")}: ${lastLine(stderr) || err.message}`))
          : resolve(),
    ),
  );
  for (const p of packages)
    if (installed(p) !== TOOL_VERSIONS[p]) throw new Error(`npm install left no ${p}@${TOOL_VERSIONS[p]}`);
  return dir;
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).at(-1) ?? "";
}

/** A port nothing listens on now; the servers here take no port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `url` answers 200, rejects when the child exits or the time is up. */
async function answering(url: URL, child: ChildProcess, what: string): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `${what} exited with ${signal ?? code} before answering`;
  });
  const until = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(exited);
    const status = await new Promise<number>((resolve) => {
      const req = http.get(url, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", () => resolve(0));
    });
    if (status === 200) return;
    if (Date.now() > until) throw new Error(`${what} did not answer 200 within ${START_TIMEOUT_MS} ms`);
    await sleep(100);
  }
}

/** Starts `command` in a process group of its own, so that closing it also ends what it spawned. */
async function startServer(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  url: URL,
  what: string,
  cleanup: () => void,
): Promise<Foreign> {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  const close = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    cleanup();
  };
  try {
    await answering(url, child, what);
  } catch (err) {
    close();
    const why = lastLine(stderr);
    return { ok: false, reason: `${(err as Error).message}${why ? `: ${why}` : ""}` };
  }
  return { ok: true, url, pid: child.pid!, close };
}

const unavailable = (err: unknown): Foreign => ({
  ok: false,
  reason: err instanceof Error ? err.message : String(err),
});

/** workerd serving `new Response("ok")` from a Worker, on one loopback socket. */
export async function startWorkerd(): Promise<Foreign> {
  try {
    const prefix = await ensureInstalled("workerd", ["workerd"]);
    // The platform package's binary itself, not the npm shim: a node start per launch, and a
    // process in between whose CPU time would hide workerd's.
    const binary = join(
      prefix,
      "node_modules",
      "@cloudflare",
      `workerd-linux-${process.arch === "arm64" ? "arm64" : "64"}`,
      "bin",
      "workerd",
    );
    if (process.platform !== "linux" || !existsSync(binary))
      return { ok: false, reason: `no workerd binary for ${process.platform}-${process.arch} at ${binary}` };
    const dir = mkdtempSync(join(tmpdir(), "nimbus-bench-workerd-"));
    const port = await freePort();
    writeFileSync(join(dir, "worker.mjs"), `export default { fetch() { return new Response("ok"); } };\n`);
    writeFileSync(
      join(dir, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "2024-09-23",
);
`,
    );
    return await startServer(
      binary,
      ["serve", join(dir, "config.capnp")],
      {},
      dir,
      new URL(`http://127.0.0.1:${port}/`),
      "workerd",
      () => rmSync(dir, { recursive: true, force: true }),
    );
  } catch (err) {
    return unavailable(err);
  }
}

/** serverless-offline serving `handlerCode` (an ES module) behind an HTTP API route for every path. */
export async function startServerlessOffline(handlerCode: string): Promise<Foreign> {
  try {
    const prefix = await ensureInstalled("serverless", ["serverless", "serverless-offline"]);
    const dir = mkdtempSync(join(tmpdir(), "nimbus-bench-sls-"));
    const [port, lambdaPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, "handler.mjs"), handlerCode);
    writeFileSync(
      join(dir, "serverless.yml"),
      `service: nimbus-bench
frameworkVersion: "3"
provider:
  name: aws
  runtime: nodejs20.x
plugins:
  - serverless-offline
functions:
  ok:
    handler: handler.handler
    events:
      - httpApi: "*"
`,
    );
    // The service resolves its plugin from its own directory.
    symlinkSync(join(prefix, "node_modules"), join(dir, "node_modules"), "dir");
    return await startServer(
      process.execPath,
      [
        join(prefix, "node_modules", "serverless", "bin", "serverless.js"),
        "offline",
        "--host",
        "127.0.0.1",
        "--httpPort",
        String(port),
        "--lambdaPort",
        String(lambdaPort),
        "--noTimeout",
        "--noPrependStageInUrl",
      ],
      // A clean environment as for every baseline (NODE_EXTRA_CA_CERTS costs each node start),
      // a HOME of its own for the Framework's state, and no telemetry or update checks.
      {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        SLS_TELEMETRY_DISABLED: "1",
        SLS_NOTIFICATIONS_MODE: "off",
        SLS_DEPRECATION_DISABLE: "*",
      },
      dir,
      new URL(`http://127.0.0.1:${port}/`),
      "serverless offline",
      () => rmSync(dir, { recursive: true, force: true }),
    );
  } catch (err) {
    return unavailable(err);
  }
}
