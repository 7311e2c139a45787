/** The bench's side of the platform child process (platform-host.ts). */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Credentials } from "../../src/gateway/auth/principal.js";

export type HostRequest = { type: "pids" } | { type: "pool" } | { type: "close" };
export type HostReply =
  | { type: "ready"; url: string; credentials: Credentials }
  | { type: "pids"; pids: number[] }
  | { type: "pool"; ready: number }
  | { type: "closed" };

const HOST = fileURLToPath(new URL("./platform-host.js", import.meta.url));

export class PlatformProcess {
  readonly url: string;
  readonly credentials: Credentials;
  /** The platform's own process: gateway, dispatcher and worker (the instances are its children). */
  readonly pid: number;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, ready: Extract<HostReply, { type: "ready" }>) {
    this.#child = child;
    this.url = ready.url;
    this.credentials = ready.credentials;
    this.pid = child.pid!;
  }

  /**
   * Starts the platform with `settings` over the defaults (as `nimbus up` flags would set
   * them); with `cpuProfileDir`, its process writes a V8 CPU profile there on close.
   */
  static async start(
    opts: { cpuProfileDir?: string; settings?: Record<string, unknown> } = {},
  ): Promise<PlatformProcess> {
    const child = fork(HOST, [JSON.stringify(opts.settings ?? {})], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: opts.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfileDir}`] : [],
    });
    const ready = await new Promise<Extract<HostReply, { type: "ready" }>>((resolve, reject) => {
      child.once("message", (m: HostReply) => {
        if (m.type === "ready") resolve(m);
        else reject(new Error(`platform host said ${m.type} before ready`));
      });
      child.once("exit", (code) => reject(new Error(`platform host exited with ${code} before ready`)));
    });
    child.removeAllListeners("exit");
    return new PlatformProcess(child, ready);
  }

  /** Process ids of the platform's running instances. */
  instancePids(): Promise<number[]> {
    return this.#ask({ type: "pids" }, "pids").then((m) => m.pids);
  }

  /** Pooled runtimes ready for a 128 MB function. */
  pooledReady(): Promise<number> {
    return this.#ask({ type: "pool" }, "pool").then((m) => m.ready);
  }

  async close(): Promise<void> {
    if (!this.#child.connected) return;
    const exited = new Promise((r) => this.#child.once("exit", r));
    await this.#ask({ type: "close" }, "closed");
    await exited;
  }

  #ask<T extends HostReply["type"]>(req: HostRequest, answer: T): Promise<Extract<HostReply, { type: T }>> {
    return new Promise((resolve) => {
      const on = (m: HostReply) => {
        if (m.type !== answer) return;
        this.#child.off("message", on);
        resolve(m as Extract<HostReply, { type: T }>);
      };
      this.#child.on("message", on);
      this.#child.send(req);
    });
  }
}
