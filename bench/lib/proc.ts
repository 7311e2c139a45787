/** Processes for baselines, and what /proc says about a process's memory and CPU time. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TRIVIAL_HANDLER } from "./functions.js";

const BARE_SERVER = fileURLToPath(new URL("./bare-server.js", import.meta.url));
const BARE_RELAY = fileURLToPath(new URL("./bare-relay.js", import.meta.url));
const BARE_STREAM_SERVER = fileURLToPath(new URL("./bare-stream-server.js", import.meta.url));
const BARE_BLOB_SERVER = fileURLToPath(new URL("./bare-blob-server.js", import.meta.url));

/**
 * Starts `node args…` with an empty environment, as the sandboxes are: this machine sets
 * NODE_EXTRA_CA_CERTS, which alone adds ~40 ms to a node start.
 */
export function spawnCleanNode(args: readonly string[], stdout: "ignore" | "pipe" = "ignore"): ChildProcess {
  return spawn(process.execPath, args, { env: {}, stdio: ["ignore", stdout, "inherit"] });
}

export interface BareServer {
  readonly url: URL;
  readonly pid: number;
  /** The relay's handler processes; none for the in-process server. */
  readonly instancePids: readonly number[];
  close(): void;
}

/**
 * A baseline server, in its own process, running the trivial handler from a file: in that
 * process (`bare-server.ts`), or with `relayTo` handler processes behind it (`bare-relay.ts`);
 * or, with `streamHandler`, that streaming handler writing to the response (`bare-stream-server.ts`);
 * or, with `blobs`, a server that stores PUT bodies as files and answers GETs with them
 * (`bare-blob-server.ts`).
 */
export async function startBareServer(
  o: { relayTo?: number; streamHandler?: string; blobs?: boolean } = {},
): Promise<BareServer> {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-bench-bare-"));
  const handlerFile = join(dir, "handler.mjs");
  writeFileSync(handlerFile, o.streamHandler ?? TRIVIAL_HANDLER);
  const args = o.blobs
    ? [BARE_BLOB_SERVER, dir]
    : o.streamHandler
      ? [BARE_STREAM_SERVER, handlerFile]
      : o.relayTo
        ? [BARE_RELAY, handlerFile, String(o.relayTo)]
        : [BARE_SERVER, handlerFile];
  const child = spawnCleanNode(args, "pipe");
  const [port, pids] = await new Promise<[number, number[]]>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (!out.includes("\n")) return;
      const [p, list] = out.trim().split(" ");
      resolve([Number(p), list ? list.split(",").map(Number) : []]);
    });
    child.once("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  child.removeAllListeners("exit");
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    pid: child.pid!,
    instancePids: pids,
    close() {
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Memory of one process from /proc/<pid>/smaps_rollup, in kB. */
export interface MemoryKb {
  readonly rss: number;
  /** Proportional set size: shared pages divided among the processes that map them. */
  readonly pss: number;
  /** Anonymous memory (heap, stacks): private to the process, as nothing here forks. */
  readonly anon: number;
}

export function memoryOf(pid: number): MemoryKb {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "latin1");
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    if (!m) throw new Error(`no ${name} in /proc/${pid}/smaps_rollup`);
    return Number(m[1]);
  };
  return { rss: field("Rss"), pss: field("Pss"), anon: field("Anonymous") };
}

/** A process's parent pid, from /proc/<pid>/stat. */
export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  // After the command name, which may itself hold spaces and parentheses: state, then ppid.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

let ticksPerSecond: number | undefined;

export function msPerTick(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return 1000 / ticksPerSecond;
}

/**
 * CPU time (user + system) a process has used so far, in ms; with `reaped`, also that of its
 * children it has waited for (and theirs). 0 once the process is gone.
 */
export function cpuMsOf(pid: number, reaped = false): number {
  const f = statFields(`/proc/${pid}/stat`);
  if (f === undefined) return 0;
  const ticks = f[11]! + f[12]! + (reaped ? f[13]! + f[14]! : 0);
  return ticks * msPerTick();
}

/** The numeric fields of a `stat` file after the command name (utime is the 12th of them), undefined once it is gone. */
function statFields(path: string): number[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
  // The command name may itself hold spaces and parentheses.
  return stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
}

/** CPU time (user + system) one thread of a process has used so far, in ms; 0 once it is gone. */
export function threadCpuMsOf(pid: number, tid: number): number {
  const f = statFields(`/proc/${pid}/task/${tid}/stat`);
  return f === undefined ? 0 : (f[11]! + f[12]!) * msPerTick();
}

/**
 * A process, with no Nimbus code in it, hashing passwords with the library the auth service uses
 * and its parameters, `perSecond` a second at `nice`: the sign-ins' hashes without the platform
 * (a control beside a figure).
 */
export function hashingProcess(o: { perSecond: number; nice: number }): { stop(): void } {
  const argon2 = fileURLToPath(import.meta.resolve("@node-rs/argon2"));
  const code =
    `require("node:os").setPriority(0, ${o.nice});` +
    `const { hashSync } = require(${JSON.stringify(argon2)});` +
    `const started = performance.now(); let n = 0;` +
    `const next = () => { hashSync("bench: a password", { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });` +
    ` n++; setTimeout(next, Math.max(0, started + (n * 1000) / ${o.perSecond} - performance.now())); };` +
    `next();`;
  const child = spawnCleanNode(["-e", code]);
  return { stop: () => void child.kill() };
}

/** CPU time the whole machine has been busy, all cores, in ms (stolen by the hypervisor included). */
export function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "latin1")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) * msPerTick();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
