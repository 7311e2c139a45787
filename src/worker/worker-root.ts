/**
 * Where the worker keeps its files (extracted code, snapshots, instance directories). They are
 * derived data, rebuilt at every start. Sandboxes run as other users and must reach their code,
 * which the private data directory does not let them: under per-instance uids the worker's root
 * is a fresh directory under the system's temp dir that they may traverse but not list, removed
 * when the platform stops. Otherwise it is `worker/` in the data directory.
 */
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WorkerRoot {
  readonly path: string;
  /** Removes the directory when it is the platform's own (under the temp dir). */
  remove(): Promise<void>;
}

export async function openWorkerRoot(dataDir: string, separateUsers: boolean): Promise<WorkerRoot> {
  const own = separateUsers;
  const path = own ? await mkdtemp(join(tmpdir(), "nimbus-worker-")) : join(dataDir, "worker");
  await mkdir(path, { recursive: true });
  await chmod(path, 0o711);
  return {
    path,
    remove: async () => {
      if (own) await rm(path, { recursive: true, force: true });
    },
  };
}
