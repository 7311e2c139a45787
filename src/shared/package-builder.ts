/**
 * Turns a function directory into a package zip, as `nimbus deploy ./dir` needs: zipped as it
 * is when the handler's file is JavaScript, bundled into one file with esbuild when it is
 * TypeScript. The same directory always gives the same bytes, so an unchanged function
 * deploys to the same content address.
 */
import { lstat, readdir, readlink, realpath, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import * as esbuild from "esbuild";
import yazl from "yazl";
import { NimbusError } from "./errors.js";
import { linkTargetProblem } from "./zip.js";

export interface BuiltPackage {
  zip: Buffer;
  /** The handler to deploy with; the bundle keeps the entry's module path, so it is unchanged. */
  handler: string;
  bundled: boolean;
  /** Files and symlinks in the zip. */
  files: number;
}

interface PackageFile {
  /** Path inside the zip, "/"-separated. */
  readonly path: string;
  readonly kind: "file" | "symlink" | "dir";
  /** A file's absolute path on disk, a symlink's target. */
  readonly source: string;
  readonly mode: number;
}

const DEFAULT_HANDLER = "index.handler";
/** The runtime's lookup order for a handler's module comes first. */
const JS_EXTENSIONS = [".js", ".mjs", ".cjs"];
const TS_EXTENSIONS = [".ts", ".mts", ".cts"];
// Local midnight, 1 January 1980 gives the same DOS timestamp in every time zone; the extended
// timestamp field (UTC seconds) would not, so it is left out.
const STABLE_TIME = { mtime: new Date(1980, 0, 1), forceDosTimestamp: true };
// Bundled CommonJS calls require() (for Node built-ins, say), which ESM lacks. Aliased so it
// cannot clash with a createRequire the function imports itself.
const REQUIRE_BANNER = [
  'import { createRequire as __nimbusCreateRequire } from "node:module";',
  "const require = __nimbusCreateRequire(import.meta.url);",
].join("\n");

/** Zips a function directory; a TypeScript handler file is first bundled with esbuild into one .mjs file. */
export async function buildPackage(dir: string, opts: { handler?: string }): Promise<BuiltPackage> {
  const root = resolve(dir);
  const handler = opts.handler ?? DEFAULT_HANDLER;
  const modulePath = handlerModule(handler);
  const entry = await findEntry(root, modulePath);
  if (TS_EXTENSIONS.some((ext) => entry.endsWith(ext))) {
    // Only the bundle is shipped; the runtime finds `<module>.mjs` for the same handler string.
    const outputs = await bundle(root, entry, `${modulePath}.mjs`);
    const zip = new yazl.ZipFile();
    for (const out of outputs) {
      zip.addBuffer(Buffer.from(out.contents), out.path, { ...STABLE_TIME, mode: 0o100644 });
    }
    return { zip: await finish(zip), handler, bundled: true, files: outputs.length };
  }
  const files: PackageFile[] = [];
  const realRoot = await realpath(root);
  await walk(realRoot, "", [realRoot], files);
  const zip = new yazl.ZipFile();
  for (const file of files) {
    const options = { ...STABLE_TIME, mode: file.mode };
    if (file.kind === "dir") zip.addEmptyDirectory(file.path, options);
    else if (file.kind === "symlink") zip.addBuffer(Buffer.from(file.source), file.path, options);
    else zip.addFile(file.source, file.path, options);
  }
  const count = files.filter((f) => f.kind !== "dir").length;
  return { zip: await finish(zip), handler, bundled: false, files: count };
}

/** "src/app.handler" → "src/app", as the runtime splits it: the file name ends at its first dot. */
function handlerModule(handler: string): string {
  const slash = handler.lastIndexOf("/");
  const base = handler.slice(slash + 1);
  const dot = base.indexOf(".");
  if (dot < 1 || dot === base.length - 1 || handler.startsWith("/") || handler.split("/").includes("..")) {
    const expected = "expected file.export inside the directory, e.g. index.handler or src/app.handler";
    throw new NimbusError("InvalidParameter", `handler ${JSON.stringify(handler)} is not valid: ${expected}`);
  }
  return handler.slice(0, slash + 1) + base.slice(0, dot);
}

/** The handler's file relative to root, trying each extension in turn. */
async function findEntry(root: string, modulePath: string): Promise<string> {
  const candidates = [...JS_EXTENSIONS, ...TS_EXTENSIONS].map((ext) => modulePath + ext);
  for (const candidate of candidates) {
    const info = await stat(join(root, candidate)).catch(() => undefined);
    if (info?.isFile()) return candidate;
  }
  const message = `cannot find the handler's file: looked for ${candidates.join(", ")} in ${root}`;
  throw new NimbusError("InvalidParameter", message);
}

async function bundle(
  root: string,
  entry: string,
  outfile: string,
): Promise<{ path: string; contents: Uint8Array }[]> {
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [join(root, entry)],
      outfile: join(root, outfile),
      write: false,
      bundle: true,
      packages: "bundle",
      platform: "node",
      target: "node20",
      format: "esm",
      sourcemap: false,
      minify: false,
      banner: { js: REQUIRE_BANNER },
      logLevel: "silent",
    });
    return result.outputFiles.map((out) => ({
      path: relative(root, out.path).split(sep).join("/"),
      contents: out.contents,
    }));
  } catch (err) {
    const first = (err as Partial<esbuild.BuildFailure>).errors?.[0];
    if (first === undefined) throw err;
    const where = first.location ? `${first.location.file}:${first.location.line}: ` : "";
    throw new NimbusError("InvalidParameter", `cannot bundle ${entry}: ${where}${first.text}`);
  }
}

/**
 * Collects the real directory `abs` into `out`, sorted. `stack` holds the real paths of the
 * directories being walked, to catch a followed symlink that loops back to one of them.
 */
async function walk(abs: string, rel: string, stack: string[], out: PackageFile[]): Promise<void> {
  const before = out.length;
  for (const name of (await readdir(abs)).sort()) {
    if (name === ".git" || (name === ".cache" && rel.split("/").at(-1) === "node_modules")) continue;
    const path = rel === "" ? name : `${rel}/${name}`;
    const full = join(abs, name);
    let info = await lstat(full);
    if (info.isSymbolicLink()) {
      const target = await readlink(full);
      // Links within the directory (node_modules/.bin, say) stay links, just as extractZip
      // accepts them; any other (a workspace package, say) is followed and its content copied.
      if (linkTargetProblem(path, target) === undefined) {
        out.push({ path, kind: "symlink", source: target, mode: 0o120777 });
        continue;
      }
      info = await stat(full).catch(() => {
        throw new NimbusError(
          "InvalidParameter",
          `symlink ${path} points to ${target}, which does not exist`,
        );
      });
      if (info.isDirectory()) {
        const real = await realpath(full);
        if (stack.includes(real)) {
          throw new NimbusError("InvalidParameter", `symlink ${path} points to ${target}, which contains it`);
        }
        await walk(real, path, [...stack, real], out);
        continue;
      }
    }
    if (info.isDirectory()) await walk(full, path, [...stack, full], out);
    else if (info.isFile())
      out.push({ path, kind: "file", source: full, mode: info.mode & 0o111 ? 0o100755 : 0o100644 });
  }
  if (out.length === before && rel !== "") out.push({ path: rel, kind: "dir", source: abs, mode: 0o40755 });
}

function finish(zip: yazl.ZipFile): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    zip.on("error", reject);
    zip.outputStream.on("error", reject);
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("end", () => resolvePromise(Buffer.concat(chunks)));
    zip.end();
  });
}
