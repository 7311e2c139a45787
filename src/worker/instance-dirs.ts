/** An instance's directories on the host, under the worker's `instances/`. */
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/** sun_path holds 108 bytes, the last a NUL. */
const MAX_SOCKET_PATH = 107;

export interface InstanceDirs {
  readonly id: string;
  readonly instanceDir: string;
  readonly tmpDir: string;
  /** An empty directory: a pooled runtime's code is linked here when the driver needs it. */
  readonly taskDir: string;
  readonly apiDir: string | undefined;
  readonly apiSocket: string | undefined;
}

/**
 * Makes a new instance's directories: its own, its /tmp, its (empty) task directory and its
 * private Runtime API directory. `privateFilesystem`: the sandbox sees only what it is given,
 * so every runtime reaches its Runtime API through a socket there.
 */
export async function makeInstanceDirs(
  root: string,
  seq: string,
  kind: string,
  privateFilesystem: boolean,
): Promise<InstanceDirs> {
  // Unguessable: the instances directory can be traversed by sandbox uids, not listed.
  const id = `${seq}-${randomBytes(8).toString("hex")}`;
  const instanceDir = join(root, "instances", id);
  const tmpDir = join(instanceDir, "tmp");
  const taskDir = join(instanceDir, "task");
  // The instance directory must stay traversable: the sandbox's uid owns only its tmp inside.
  await mkdir(instanceDir, { mode: 0o711 });
  await mkdir(tmpDir, { mode: 0o700 });
  await mkdir(taskDir, { mode: 0o755 });
  // Nimbus's own Node runtime talks to its Runtime API over a Unix socket in a directory only
  // its sandbox can enter; other runtimes use the loopback port, or in a sandbox with its own
  // network, an HTTP socket there. (A socket path has at most 107 bytes: under a deep data
  // directory the port alone is used, where there is one.)
  const wantsDir = kind === "node" || privateFilesystem;
  const apiDir =
    wantsDir && Buffer.byteLength(join(instanceDir, "api", "runtime.sock")) <= MAX_SOCKET_PATH
      ? join(instanceDir, "api")
      : undefined;
  if (wantsDir && !apiDir && privateFilesystem)
    throw new Error(`the worker directory ${root} is too deep for a Runtime API socket path`);
  if (apiDir) await mkdir(apiDir, { mode: 0o700 });
  return {
    id,
    instanceDir,
    tmpDir,
    taskDir,
    apiDir,
    apiSocket: apiDir && kind === "node" ? join(apiDir, "runtime.sock") : undefined,
  };
}
