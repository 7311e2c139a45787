/**
 * The data directory holds every function's environment, logs, packages and the platform's
 * own credentials: it and everything in it are private to the platform's user (0700 and 0600)
 * whatever the umask and the parents. A directory found open is closed, and said so.
 */
import { chmod, lstat, mkdir, open, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Where a listening platform writes its URL (the CLI reads it). */
export const ENDPOINT_FILE = "endpoint";
/** Files the platform creates before SQLite opens them, so their WAL and SHM files follow (0600). */
const DATABASE_FILES = ["nimbus.db", "nimbus.lock"];

/** Makes `dataDir` private; returns what was found open (for a warning each). */
export async function makePrivate(dataDir: string): Promise<string[]> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const problems: string[] = [];
  const top = await lstat(dataDir);
  if ((top.mode & 0o077) !== 0) {
    await chmod(dataDir, 0o700);
    problems.push(
      `the data directory ${dataDir} was open to other users (mode ${octal(top.mode)}): made private (0700)`,
    );
  }
  let opened = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isSymbolicLink()) continue;
      const path = join(dir, e.name);
      const want = e.isDirectory() ? 0o700 : 0o600;
      const st = await lstat(path);
      if ((st.mode & 0o077) !== 0) {
        await chmod(path, (st.mode & 0o700) | (want & 0o700));
        opened++;
      }
      if (e.isDirectory()) await walk(path);
    }
  };
  await walk(dataDir);
  if (opened > 0) problems.push(`${opened} files in ${dataDir} were open to other users: made private`);
  for (const name of DATABASE_FILES) await (await open(join(dataDir, name), "a", 0o600)).close();
  return problems;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
