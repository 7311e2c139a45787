/**
 * Reading function packages (zip buffers) safely. The whole central directory is judged before
 * anything is written, and data is inflated with every byte counted, so a hostile zip can
 * neither escape the destination nor exhaust the disk. Symlinks that stay inside the package
 * are extracted as symlinks (node_modules/.bin is full of them); any that would leave it is
 * refused. Modes are normalised: 0755 for a file with any executable bit, else 0644; 0755 for
 * directories; setuid, setgid and sticky bits are dropped.
 */
import { chmod, mkdir, open, readdir, realpath, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import zlib from "node:zlib";
import type { Entry } from "yauzl";
import yauzl from "yauzl";
import { MAX_UNZIPPED_BYTES, MAX_ZIP_BYTES, MAX_ZIP_ENTRIES } from "../protocol/limits.js";
import { NimbusError } from "./errors.js";

export interface ZipLimits {
  maxZipBytes: number;
  maxUnzippedBytes: number;
  maxEntries: number;
}

export interface ZipSummary {
  /** Every entry in the archive, directories included. */
  entries: number;
  /** Regular files and symlinks. */
  files: number;
  /** Bytes actually inflated. */
  unzippedBytes: number;
}

interface Item {
  readonly entry: Entry;
  /** Normalised: no "." or empty segments, no trailing "/". */
  readonly path: string;
  readonly kind: "file" | "dir" | "symlink";
  /** Files get 0o755 or 0o644: only the executable bit survives from the archive. */
  readonly mode: number;
}

interface Catalogue {
  readonly entryCount: number;
  readonly items: Item[];
}

interface Budget {
  used: number;
  readonly max: number;
}

const MIB = 1024 * 1024;
const MAX_SEGMENT_BYTES = 255;
const MAX_LINK_TARGET_BYTES = 4095;
const CHUNK_BYTES = 64 * 1024;
/** Entries up to this size are inflated in one call rather than streamed. */
const WHOLE_ENTRY_BYTES = 256 * 1024;
/** Entries in flight at once: file writes wait on libuv's thread pool, so overlap them. */
const CONCURRENCY = 16;
const DEFAULT_LIMITS: ZipLimits = {
  maxZipBytes: MAX_ZIP_BYTES,
  maxUnzippedBytes: MAX_UNZIPPED_BYTES,
  maxEntries: MAX_ZIP_ENTRIES,
};
const UNIX_HOSTS = new Set([3, 19]); // high byte of "version made by": Unix, OS X

/** Validates a package zip completely without writing anything; throws a NimbusError naming the problem and the limit. */
export async function inspectZip(zip: Buffer, limits?: Partial<ZipLimits>): Promise<ZipSummary> {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  return unpack(zip, await readCatalogue(zip, lim), lim.maxUnzippedBytes, undefined);
}

/** Extracts a zip into an empty directory (created if missing); on failure leaves it absent or empty. */
export async function extractZip(
  zip: Buffer,
  destDir: string,
  limits?: Partial<ZipLimits>,
): Promise<ZipSummary> {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  // Everything the central directory can tell is checked before the disk is touched.
  const catalogue = await readCatalogue(zip, lim);
  const existing = await readdir(destDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (existing && existing.length > 0) {
    throw new NimbusError("Internal", `cannot extract into ${destDir}: it is not empty`);
  }
  await mkdir(destDir, { recursive: true });
  const root = await realpath(destDir);
  try {
    return await unpack(zip, catalogue, lim.maxUnzippedBytes, root);
  } catch (err) {
    if (!existing) await rm(destDir, { recursive: true, force: true });
    else for (const name of await readdir(root)) await rm(join(root, name), { recursive: true, force: true });
    throw err;
  }
}

/** Why a symlink at `linkPath` pointing at `target` would leave the package; undefined if it stays inside. */
export function linkTargetProblem(linkPath: string, target: string): string | undefined {
  if (target === "" || /[\0\\]/.test(target)) return "is empty or contains a NUL byte or backslash";
  if (target.startsWith("/") || /^[a-zA-Z]:/.test(target)) return "is an absolute path";
  // ".." may only lead: after a name it could climb back out of a link with that name, and
  // then this lexical check would no longer match what the filesystem resolves.
  const segments = target.split("/").filter((s) => s !== "" && s !== ".");
  const ups = segments.findIndex((s) => s !== "..");
  const leading = ups === -1 ? segments.length : ups;
  if (segments.slice(leading).includes("..")) return 'uses ".." after a name';
  if (leading > linkPath.split("/").length - 1) return "climbs out of the package";
  return undefined;
}

/** Reads and judges the central directory; file data is then sliced straight from the buffer. */
async function readCatalogue(zip: Buffer, lim: ZipLimits): Promise<Catalogue> {
  const tooBig = () => `package is ${size(zip.length)}, limit is ${limit(lim.maxZipBytes)}`;
  if (zip.length > lim.maxZipBytes) throw new NimbusError("RequestTooLarge", tooBig());
  // yauzl's own name checks and size validation are off: we judge names below and count
  // inflated bytes ourselves, to give messages that say what is wrong and what is expected.
  const options = {
    lazyEntries: true,
    decodeStrings: false,
    validateEntrySizes: false,
    strictFileNames: true,
  };
  const zipfile = await yauzl.fromBufferPromise(zip, options).catch((err: unknown) => {
    throw invalidZip(err);
  });
  const items: Item[] = [];
  const kinds = new Map<string, Item["kind"]>();
  let declared = 0;
  try {
    const tooMany = `package has ${zipfile.entryCount} entries, limit is ${lim.maxEntries}`;
    if (zipfile.entryCount > lim.maxEntries) throw new NimbusError("InvalidParameter", tooMany);
    for await (const entry of zipfile.eachEntry()) {
      const item = describe(entry);
      if (item === undefined) continue;
      if (kinds.has(item.path)) throw invalid(`package has two entries named ${q(item.path)}`);
      kinds.set(item.path, item.kind);
      items.push(item);
      if (item.kind !== "dir") declared += entry.uncompressedSize;
    }
  } catch (err) {
    throw err instanceof NimbusError ? err : invalidZip(err);
  } finally {
    zipfile.close();
  }
  if (!items.some((i) => i.kind !== "dir")) throw invalid("package contains no files");
  for (const { path } of items) {
    for (const parent of parents(path)) {
      const kind = kinds.get(parent);
      if (kind === "file" || kind === "symlink") {
        throw invalid(`entry ${q(path)} is inside ${q(parent)}, which is a ${kind}, not a directory`);
      }
    }
  }
  if (declared > lim.maxUnzippedBytes) throw unzippedTooLarge(declared, lim.maxUnzippedBytes);
  return { entryCount: zipfile.entryCount, items };
}

/** Judges one central directory entry; undefined for an entry naming the root ("./"). */
function describe(entry: Entry): Item | undefined {
  const name = yauzl.getFileNameLowLevel(
    entry.generalPurposeBitFlag,
    entry.fileNameRaw,
    entry.extraFields,
    true,
  );
  const path = checkName(name);
  if (entry.isEncrypted()) throw invalid(`entry ${q(name)} is encrypted; upload a zip without a password`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    const method = `compression method ${entry.compressionMethod}`;
    throw invalid(`entry ${q(name)} uses ${method}; only stored (0) and deflate (8) are supported`);
  }
  const unixMode = UNIX_HOSTS.has(entry.versionMadeBy >> 8) ? entry.externalFileAttributes >>> 16 : 0;
  const type = unixMode & 0o170000;
  const isDir = name.endsWith("/") || type === 0o040000 || (entry.externalFileAttributes & 0x10) !== 0;
  if (path === "" && isDir) return undefined;
  if (path === "") throw invalid(`entry ${q(name)} has no file name`);
  if (isDir) return { entry, path, kind: "dir", mode: 0o755 };
  if (type === 0o120000) {
    if (entry.uncompressedSize > MAX_LINK_TARGET_BYTES)
      throw invalid(`symlink ${q(name)} has too long a target`);
    return { entry, path, kind: "symlink", mode: 0o777 };
  }
  // Any other type (fifo, device) is written as a plain file: nothing here creates special files.
  return { entry, path, kind: "file", mode: unixMode & 0o111 ? 0o755 : 0o644 };
}

/** Returns the normalised path, or throws if the name could point anywhere but inside the package. */
function checkName(name: string): string {
  const problem = (what: string) =>
    invalid(`entry ${q(name)} ${what}; entry names must be relative paths inside the package`);
  if (name.includes("\0")) throw problem("contains a NUL byte");
  if (name.includes("\\")) throw problem('contains a backslash (zip paths use "/")');
  if (name.startsWith("/")) throw problem("is an absolute path");
  if (/^[a-zA-Z]:/.test(name)) throw problem("starts with a drive letter");
  const segments = name.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    const depth = segments.reduce((d, s) => (d < 0 ? d : d + (s === ".." ? -1 : 1)), 0);
    throw problem(depth < 0 ? "escapes the package" : 'contains a ".." segment');
  }
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    throw problem(`has a path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return segments.join("/");
}

/** Inflates every file and link, writing them under root unless it is undefined. */
async function unpack(zip: Buffer, catalogue: Catalogue, maxUnzipped: number, root: string | undefined) {
  const budget: Budget = { used: 0, max: maxUnzipped };
  const dirs = new Set(
    catalogue.items.flatMap((i) => [...parents(i.path), ...(i.kind === "dir" ? [i.path] : [])]),
  );
  // Sorted, a parent comes before its children.
  for (const dir of [...dirs].sort()) {
    if (root === undefined) break;
    await mkdir(join(root, dir));
    await chmod(join(root, dir), 0o755);
  }
  const links: { path: string; target: string }[] = [];
  const files = catalogue.items.filter((i) => i.kind !== "dir");
  await pool(files, async (item) => {
    if (item.kind === "symlink") {
      const parts: Buffer[] = [];
      await readEntry(zip, item, budget, async (chunk) => void parts.push(chunk));
      const target = Buffer.concat(parts).toString("utf8");
      const problem = linkTargetProblem(item.path, target);
      const rule = "links must stay inside the package";
      if (problem) throw invalid(`symlink ${q(item.path)} points to ${q(target)}, which ${problem}; ${rule}`);
      links.push({ path: item.path, target });
    } else if (root === undefined) await readEntry(zip, item, budget, async () => {});
    else await writeFileEntry(zip, item, join(root, item.path), budget);
  });
  // Links come last, so no entry is ever written through one.
  if (root !== undefined) for (const link of links) await symlink(link.target, join(root, link.path));
  return { entries: catalogue.entryCount, files: files.length, unzippedBytes: budget.used };
}

async function writeFileEntry(zip: Buffer, item: Item, dest: string, budget: Budget): Promise<void> {
  // "wx" (O_EXCL) never follows or replaces anything already at that path.
  const handle = await open(dest, "wx", item.mode);
  try {
    await readEntry(zip, item, budget, async (chunk) => {
      await handle.write(chunk);
    });
    await handle.chmod(item.mode); // the umask may have narrowed the mode given to open
  } finally {
    await handle.close();
  }
}

/** Inflates one entry, counting real bytes against its header and the budget, and checks its CRC. */
async function readEntry(zip: Buffer, item: Item, budget: Budget, sink: (chunk: Buffer) => Promise<void>) {
  const { entry, path } = item;
  const declared = entry.uncompressedSize;
  let count = 0;
  let crc = 0;
  for await (const chunk of inflate(zip, item)) {
    count += chunk.length;
    budget.used += chunk.length;
    if (count > declared) throw understated(path, declared);
    // Unreachable while entries keep to their declared sizes and the declared total was
    // checked; kept so the limit never rests on header arithmetic alone.
    if (budget.used > budget.max) throw unzippedTooLarge(budget.used, budget.max, "more than ");
    crc = zlib.crc32(chunk, crc);
    await sink(chunk);
  }
  if (count !== declared) throw invalid(`entry ${q(path)} is truncated: ${count} of ${declared} bytes`);
  if (crc !== entry.crc32) throw invalid(`entry ${q(path)} is corrupt: its CRC-32 does not match`);
}

/** The entry's compressed bytes, located through its local header. */
function fileData(zip: Buffer, entry: Entry): Buffer {
  const at = entry.relativeOffsetOfLocalHeader;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== 0x04034b50)
    throw new Error("invalid local file header");
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  if (start + entry.compressedSize > zip.length)
    throw new Error("file data runs past the end of the archive");
  return zip.subarray(start, start + entry.compressedSize);
}

/** The entry's data, inflated; only the archive's own faults are caught here, not the consumer's. */
async function* inflate(zip: Buffer, { entry, path }: Item): AsyncGenerator<Buffer> {
  const declared = entry.uncompressedSize;
  let inflater: zlib.InflateRaw | undefined;
  try {
    const data = fileData(zip, entry);
    if (entry.compressionMethod === 0) {
      for (let i = 0; i < data.length; i += CHUNK_BYTES) yield data.subarray(i, i + CHUNK_BYTES);
    } else if (declared <= WHOLE_ENTRY_BYTES) {
      // Most package files are small: one synchronous call (well under a millisecond) beats a
      // stream's setup and a queue on the thread pool the file writes need. maxOutputLength
      // stops zlib one chunk past the declared size.
      yield zlib.inflateRawSync(data, { maxOutputLength: declared + 1 });
    } else {
      // Output is pulled chunk by chunk, so zlib stops as soon as the consumer throws.
      inflater = zlib.createInflateRaw({ chunkSize: CHUNK_BYTES });
      inflater.end(data);
      for await (const chunk of inflater) yield chunk as Buffer;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw understated(path, declared);
    throw invalidZip(err, path);
  } finally {
    inflater?.destroy();
  }
}

/** Runs fn over items a few at a time; waits for all to settle, so cleanup never races a write. */
async function pool(items: Item[], fn: (item: Item) => Promise<void>): Promise<void> {
  const queue = items.values();
  let failed = false;
  const worker = async () => {
    for (const item of queue) {
      if (failed) return;
      await fn(item).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  const results = await Promise.allSettled(Array.from({ length: CONCURRENCY }, worker));
  for (const result of results) if (result.status === "rejected") throw result.reason;
}

/** "a/b/c" → "a", "a/b". */
function parents(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

const invalid = (message: string) => new NimbusError("InvalidZipFile", message);
const q = (name: string) => JSON.stringify(name);

function invalidZip(err: unknown, entry?: string): NimbusError {
  const reason = `${entry === undefined ? "" : `entry ${q(entry)}: `}${err instanceof Error ? err.message : err}`;
  return invalid(`package is not a valid zip archive: ${reason}`);
}

function understated(path: string, declared: number): NimbusError {
  const what = `inflates to more than the ${size(declared)} its header declares`;
  return invalid(`entry ${q(path)} ${what} (corrupt archive or zip bomb)`);
}

function unzippedTooLarge(bytes: number, max: number, more = ""): NimbusError {
  const message = `package unzips to ${more}${size(bytes)}, limit is ${limit(max)}`;
  return new NimbusError("InvalidParameter", message);
}

/** A measured size: "61.0 MB", "12.5 KB", "300 bytes". */
function size(bytes: number): string {
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MB`;
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${bytes} bytes`;
}

/** A limit, without a pointless ".0": "50 MB". */
function limit(bytes: number): string {
  return size(bytes).replace(".0 ", " ");
}
