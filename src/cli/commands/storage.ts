/**
 * `nimbus storage buckets|ls|cp|rm|presign`: object storage through the S3 API the platform
 * serves at `<endpoint>/s3` (path style, signed for `s3`), as `aws s3` drives S3. Buckets in
 * `storage-buckets.ts`, copies in `storage-cp.ts` (bytes moved by `storage-transfer.ts`), the
 * wire in `storage-s3.ts`.
 */
import { Command } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, integer, withConnection, withJson } from "../options.js";
import { UsageError } from "../usage-error.js";
import { printBuckets, s3Api, storageBucketsCommand } from "./storage-buckets.js";
import { type CpOptions, cp } from "./storage-cp.js";
import { lsLines } from "./storage-format.js";
import { deleteObjects, listObjectsPage, type ObjectEntry, objectsUnder } from "./storage-ops.js";
import { directoryPrefix, objectPath, parseS3Url, s3Url } from "./storage-paths.js";
import { MAX_PRESIGN_EXPIRES_S } from "./storage-s3.js";

const DEFAULT_PRESIGN_EXPIRES_S = 3600;

export function storageCommand(ctx: CliContext): Command {
  const cmd = new Command("storage")
    .summary("buckets and objects (S3)")
    .description(
      "Object storage: buckets and objects through the platform's S3 API (<endpoint>/s3), signed with " +
        "the platform's key. Objects are named s3://BUCKET/KEY. See docs/storage.md.",
    );
  cmd.addCommand(storageBucketsCommand(ctx));

  withConnection(
    withJson(
      cmd
        .command("ls")
        .alias("list")
        .summary("list objects under a prefix (or buckets)")
        .argument("[bucket/prefix]", "s3://BUCKET/PREFIX or BUCKET/PREFIX (none: list buckets)")
        .option("--recursive", "every key under the prefix, not rolled up at /"),
    ),
  )
    .description(
      "List a bucket as `aws s3 ls` does: `PRE name/` for each common prefix (a directory), then " +
        "each object's time (UTC), size in bytes and name. With --recursive, every key in full. " +
        'Without a bucket, the buckets. --json prints {"CommonPrefixes": [{"Prefix"}], "Contents": ' +
        '[{"Key", "LastModified", "ETag", "Size", "StorageClass"}]}, ListObjectsV2\'s (every page).',
    )
    .action(
      ctx.action(async (target: string | undefined, o: Flags<{ recursive?: boolean }>) => {
        const api = s3Api(ctx, o);
        if (target === undefined) return printBuckets(ctx, api, o.json);
        const { bucket, key: prefix } = parseS3Url(target, true);
        const recursive = o.recursive === true;
        const all = { contents: [] as ObjectEntry[], prefixes: [] as string[] };
        let token: string | undefined;
        do {
          const page = await listObjectsPage(api, bucket, { prefix, recursive, token });
          if (o.json) {
            all.contents.push(...page.contents);
            all.prefixes.push(...page.prefixes);
          } else ctx.stdout.write(lsLines(page, prefix, recursive));
          token = page.next;
        } while (token);
        if (o.json)
          ctx.json({ CommonPrefixes: all.prefixes.map((p) => ({ Prefix: p })), Contents: all.contents });
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("cp")
      .alias("copy")
      .summary("copy a file to or from a bucket")
      .argument("<src>", "a file, - (standard input), or s3://BUCKET/KEY")
      .argument(
        "<dst>",
        "s3://BUCKET/KEY (or s3://BUCKET/PREFIX/), a file or directory, or - (standard output)",
      )
      .option("--recursive", "copy a directory, or every key under a prefix")
      .option("--content-type <type>", "the uploaded object's Content-Type (default: guessed from the name)"),
  )
    .description(
      "Copy a file up to a bucket, an object down to a file, or an object to another. Bytes are streamed, " +
        "never held whole: a file over 64 MiB goes as a multipart upload of 16 MiB parts (aborted if it " +
        "fails); standard input as one once it passes 16 MiB. A key ending in / takes the file's name.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  nimbus storage cp ./cat.jpg s3://photos/2026/\n" +
        "  nimbus storage cp s3://photos/2026/cat.jpg ./downloads/\n" +
        "  pg_dump app | gzip | nimbus storage cp - s3://backups/app.sql.gz\n" +
        "  nimbus storage cp --recursive ./site s3://www/\n",
    )
    .action(
      ctx.action(async (src: string, dst: string, o: Flags<CpOptions>) =>
        cp(ctx, s3Api(ctx, o), src, dst, o),
      ),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete an object, or every object under a prefix")
      .argument("<s3-url>", "s3://BUCKET/KEY")
      .option("--recursive", "every key under s3://BUCKET/PREFIX/ (DeleteObjects, 1,000 at a time)"),
  )
    .description(
      "Delete an object (in a versioned bucket: put a delete marker on it). With --recursive, every " +
        "object under the prefix, as a directory: s3://b/dir means the keys under dir/.",
    )
    .action(
      ctx.action(async (target: string, o: Flags<{ recursive?: boolean }>) => {
        const api = s3Api(ctx, o);
        const l = parseS3Url(target);
        if (!o.recursive) {
          if (l.key === "" || l.key.endsWith("/"))
            throw new UsageError(`"${target}" names no object: give its key, or --recursive for a prefix`);
          await api.headers("DELETE", objectPath(l.bucket, l.key));
          ctx.stdout.write(`delete: ${s3Url(l)}\n`);
          return 0;
        }
        const prefix = directoryPrefix(l.key);
        let count = 0;
        let failed = 0;
        for await (const page of objectsUnder(api, l.bucket, prefix)) {
          const out = await deleteObjects(api, l.bucket, page);
          count += out.deleted.length;
          for (const key of out.deleted) ctx.stdout.write(`delete: ${s3Url({ bucket: l.bucket, key })}\n`);
          for (const e of out.errors)
            ctx.stderr.write(
              `error: cannot delete ${s3Url({ bucket: l.bucket, key: e.Key })}: ${e.Message} (${e.Code})\n`,
            );
          failed += out.errors.length;
        }
        if (count + failed === 0)
          ctx.stderr.write(`no objects under ${s3Url({ bucket: l.bucket, key: prefix })}\n`);
        return failed > 0 ? 1 : 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("presign")
        .summary("print a presigned URL to download (or upload) an object")
        .argument("<s3-url>", "s3://BUCKET/KEY")
        .option("--put", "a URL to upload the object with PUT, instead of downloading it")
        .option(
          "--expires <seconds>",
          `how long the URL works (default ${DEFAULT_PRESIGN_EXPIRES_S}, at most ${MAX_PRESIGN_EXPIRES_S}: 7 days)`,
          integer(1, MAX_PRESIGN_EXPIRES_S),
        ),
    ),
  )
    .description(
      "Print a URL anyone can GET the object with (or PUT it, --put) without a key, until it expires: " +
        "Signature Version 4 in its query, made with the platform's key, nothing sent to the platform. " +
        '--json prints {"Url", "Method", "Expires"}.',
    )
    .action(
      ctx.action(async (target: string, o: Flags<{ put?: boolean; expires?: number }>) => {
        const l = parseS3Url(target);
        if (l.key === "") throw new UsageError(`"${target}" names no object: expected s3://BUCKET/KEY`);
        const method = o.put ? "PUT" : "GET";
        const { url, expiresAt } = await s3Api(ctx, o).presign(
          method,
          objectPath(l.bucket, l.key),
          o.expires ?? DEFAULT_PRESIGN_EXPIRES_S,
        );
        if (o.json) ctx.json({ Url: url, Method: method, Expires: expiresAt.toISOString() });
        else ctx.stdout.write(`${url}\n`);
        return 0;
      }),
    );
  return cmd;
}
