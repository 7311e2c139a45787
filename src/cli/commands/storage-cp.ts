/**
 * `nimbus storage cp SRC DST`: a local file (or `-`, standard input) up to `s3://bucket/key`,
 * an object down to a file (or `-`, standard output), or an object to another on the platform
 * (CopyObject); with --recursive, a directory up, a prefix down, or a prefix across. Each
 * object is a line on stdout, as `aws s3 cp` prints it (none when the bytes go to stdout).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CliContext } from "../context.js";
import { UsageError } from "../usage-error.js";
import { objectsUnder } from "./storage-ops.js";
import {
  contentTypeOf,
  directoryPrefix,
  downloadPath,
  isS3Url,
  keySuffix,
  localPathUnder,
  parseS3Url,
  type S3Location,
  s3Url,
  uploadKey,
} from "./storage-paths.js";
import type { S3Api } from "./storage-s3.js";
import { copyObject, downloadTo, downloadToFile, uploadFile, uploadStream } from "./storage-transfer.js";

export interface CpOptions {
  recursive?: boolean;
  contentType?: string;
}

/** What a local path is: a file, a directory, or nothing yet. */
async function kindOf(path: string): Promise<"file" | "directory" | "none"> {
  try {
    return (await stat(path)).isDirectory() ? "directory" : "file";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "none";
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
}

const objectKey = (l: S3Location, what: string): S3Location => {
  if (l.key === "" || l.key.endsWith("/"))
    throw new UsageError(`${what} "${s3Url(l)}" names no object: give its key, or --recursive for a prefix`);
  return l;
};

/** Runs `cp`; the exit code. */
export async function cp(
  ctx: CliContext,
  api: S3Api,
  src: string,
  dst: string,
  o: CpOptions,
): Promise<number> {
  const fromS3 = isS3Url(src);
  const toS3 = isS3Url(dst);
  if (!fromS3 && !toS3)
    throw new UsageError(`neither "${src}" nor "${dst}" is s3://BUCKET/KEY: copy local files with cp(1)`);
  if (o.recursive) {
    if (src === "-" || dst === "-")
      throw new UsageError("--recursive copies files, not standard input or output");
    return cpRecursive(ctx, api, src, dst, o);
  }
  if (!fromS3) {
    const to = parseS3Url(dst);
    await upload(ctx, api, src, { bucket: to.bucket, key: uploadKey(to, src) }, o.contentType);
    return 0;
  }
  const from = objectKey(parseS3Url(src), "the source");
  if (toS3) {
    const to = parseS3Url(dst);
    const key = to.key === "" || to.key.endsWith("/") ? to.key + (from.key.split("/").pop() ?? "") : to.key;
    await copyObject(api, from, { bucket: to.bucket, key });
    ctx.stdout.write(`copy: ${s3Url(from)} to ${s3Url({ bucket: to.bucket, key })}\n`);
    return 0;
  }
  if (dst === "-") {
    await downloadTo(api, from, ctx.stdout);
    return 0;
  }
  const path = downloadPath(dst, from.key, (await kindOf(dst)) === "directory");
  await downloadToFile(api, from, path);
  ctx.stdout.write(`download: ${s3Url(from)} to ${path}\n`);
  return 0;
}

async function upload(
  ctx: CliContext,
  api: S3Api,
  src: string,
  to: S3Location,
  contentType: string | undefined,
): Promise<void> {
  const type = contentType ?? contentTypeOf(src === "-" ? to.key : src);
  if (src === "-") {
    if (process.stdin.isTTY)
      throw new UsageError(
        "- reads standard input, which is a terminal: pipe the bytes in (… | nimbus storage cp - s3://…)",
      );
    await uploadStream(api, process.stdin, to, type);
  } else {
    const kind = await kindOf(src);
    if (kind === "none") throw new Error(`cannot read ${src}: no such file`);
    if (kind === "directory")
      throw new UsageError(`"${src}" is a directory: add --recursive to copy what it holds`);
    await uploadFile(api, src, to, type);
  }
  ctx.stdout.write(`upload: ${src} to ${s3Url(to)}\n`);
}

async function cpRecursive(
  ctx: CliContext,
  api: S3Api,
  src: string,
  dst: string,
  o: CpOptions,
): Promise<number> {
  if (!isS3Url(src)) {
    if ((await kindOf(src)) !== "directory")
      throw new UsageError(`--recursive copies a directory: "${src}" is not one`);
    const to = parseS3Url(dst);
    const prefix = directoryPrefix(to.key);
    const names = (await readdir(src, { recursive: true })).sort();
    for (const name of names) {
      const path = join(src, name);
      if ((await kindOf(path)) !== "file") continue;
      await upload(ctx, api, path, { bucket: to.bucket, key: prefix + keySuffix(name) }, o.contentType);
    }
    return 0;
  }
  const from = parseS3Url(src);
  const prefix = directoryPrefix(from.key);
  const to = isS3Url(dst) ? parseS3Url(dst) : undefined;
  let skipped = 0;
  for await (const page of objectsUnder(api, from.bucket, prefix)) {
    for (const object of page) {
      const source = { bucket: from.bucket, key: object.Key };
      if (to) {
        const target = { bucket: to.bucket, key: directoryPrefix(to.key) + object.Key.slice(prefix.length) };
        await copyObject(api, source, target);
        ctx.stdout.write(`copy: ${s3Url(source)} to ${s3Url(target)}\n`);
        continue;
      }
      const path = localPathUnder(dst, prefix, object.Key);
      if (path === undefined) {
        // A "directory" marker (`photos/`), or a key that would be written outside dst (`../x`).
        if (!object.Key.endsWith("/")) {
          ctx.stderr.write(`skip: ${s3Url(source)}: its key is no path inside ${dst}\n`);
          skipped++;
        }
        continue;
      }
      await downloadToFile(api, source, path);
      ctx.stdout.write(`download: ${s3Url(source)} to ${path}\n`);
    }
  }
  return skipped > 0 ? 1 : 0;
}
