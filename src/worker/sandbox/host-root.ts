/**
 * What the jail and gVisor share of the host: the read-only root they bind (the host's /usr,
 * its links, CA certificates, time zones, the node binary's installation), how to find the
 * tools they run, and how their launchers report a command killed by a signal.
 */
import { lstatSync, readlinkSync, statSync } from "node:fs";
import { constants } from "node:os";
import { delimiter, dirname, isAbsolute, join, relative } from "node:path";
import type { SandboxExit } from "./types.js";

/** Host directories a runtime may need, bound read-only where they are (links kept as links). */
export const HOST_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;
/** Host files kept readable: time zones and CA certificates (for functions allowed egress). */
export const HOST_FILES = ["/etc/ssl", "/etc/ca-certificates", "/usr/share/zoneinfo"] as const;
/** The PATH the sandboxes' launchers and helpers get, nothing else of the platform's. */
export const TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
/**
 * `sh -c HOLD_SCRIPT name command...` waits for a line on stdin, then becomes the command: a
 * sandbox is held until the platform has moved it into its control group, so that everything
 * it starts is in the group from its first page and CPU cycle. Exits if the platform went.
 */
export const HOLD_SCRIPT = 'read -r go || exit 111; exec "$@"';

export interface HostRoot {
  /** Directories and files bound read-only at the same place. */
  readonly binds: readonly string[];
  /** Links made in the root: [target, where]. */
  readonly links: ReadonlyArray<readonly [string, string]>;
}

/** The read-only root's host parts: the host's /usr and its links, and the node binary's installation. */
export function hostRoot(nodeBinary: string): HostRoot {
  const binds: string[] = [];
  const links: Array<[string, string]> = [];
  for (const dir of HOST_DIRS) {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) links.push([readlinkSync(dir), dir]);
    else if (st.isDirectory()) binds.push(dir);
  }
  // Time zones under /usr come with it; elsewhere they are bound on their own.
  for (const f of HOST_FILES)
    if (statSync(f, { throwIfNoEntry: false }) && !binds.some((d) => within(d, f))) binds.push(f);
  // A node installed outside /usr (/opt/node, a version manager's directory): its prefix.
  const prefix = dirname(dirname(nodeBinary));
  if (!binds.some((d) => within(d, nodeBinary))) binds.push(prefix);
  return { binds, links };
}

/** Whether `path` is `dir` or inside it. */
export function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** An executable found on the platform's PATH (or the path given), undefined if none. */
export function findExecutable(name: string): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? TOOL_PATH).split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      const st = statSync(c, { throwIfNoEntry: false });
      if (st?.isFile() && (st.mode & 0o111) !== 0) return c;
    } catch {
      // A directory on PATH this user may not search.
    }
  }
  return undefined;
}

/**
 * bubblewrap and runsc exit 128 + n when the command they ran died of signal n: reported as
 * that signal, as the process driver reports its child's.
 */
export function exitOf(code: number | null, signal: NodeJS.Signals | null): SandboxExit {
  if (code !== null && code > 128) {
    const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find(
      (s) => constants.signals[s] === code - 128,
    );
    if (name) return { code: null, signal: name };
  }
  return { code, signal };
}
