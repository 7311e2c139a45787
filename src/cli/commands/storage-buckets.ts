/** `nimbus storage buckets ls|create|rm`: ListBuckets, CreateBucket, DeleteBucket (emptying it first with --force). */
import { Command } from "commander";
import { resolveClientOptions } from "../client.js";
import type { CliContext } from "../context.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { UsageError } from "../usage-error.js";
import { bucketsTable } from "./storage-format.js";
import { emptyBucket, listBuckets } from "./storage-ops.js";
import { objectPath, S3_SCHEME } from "./storage-paths.js";
import { S3Api, S3CallError } from "./storage-s3.js";

/** The S3 API of the platform the flags, the environment and the data directory point at. */
export const s3Api = (ctx: CliContext, flags: Flags): S3Api =>
  new S3Api(resolveClientOptions(flags, ctx.env));

/** A bucket named as `photos` or `s3://photos/`. */
export function bucketName(text: string): string {
  const name = (text.startsWith(S3_SCHEME) ? text.slice(S3_SCHEME.length) : text).replace(/\/$/, "");
  if (name === "" || name.includes("/")) throw new UsageError(`expected a bucket's name, got "${text}"`);
  return name;
}

/** Buckets as `buckets ls` (and `ls` without a bucket) print them. */
export async function printBuckets(ctx: CliContext, api: S3Api, json: boolean | undefined): Promise<number> {
  const buckets = await listBuckets(api);
  if (json) ctx.json({ Buckets: buckets });
  else ctx.stdout.write(buckets.length === 0 ? "no buckets\n" : bucketsTable(buckets));
  return 0;
}

export function storageBucketsCommand(ctx: CliContext): Command {
  const cmd = new Command("buckets")
    .alias("bucket")
    .summary("list, create and delete buckets")
    .description("Buckets: list, create, delete (with --force, with everything in them).");

  withConnection(withJson(cmd.command("ls").alias("list").summary("list buckets")))
    .description(
      'List every bucket with the time it was created (UTC). --json prints {"Buckets": [{"Name", ' +
        '"CreationDate"}]}, ListBuckets\' answer (every page).',
    )
    .action(ctx.action(async (o: Flags) => printBuckets(ctx, s3Api(ctx, o), o.json)));

  withConnection(
    cmd
      .command("create")
      .summary("create a bucket")
      .argument("<bucket>", "its name: 3-63 characters of a-z 0-9 . -"),
  ).action(
    ctx.action(async (bucket: string, o: Flags) => {
      const name = bucketName(bucket);
      await s3Api(ctx, o).headers("PUT", objectPath(name));
      ctx.stdout.write(`created the bucket ${name}\n`);
      return 0;
    }),
  );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete a bucket")
      .argument("<bucket>")
      .option("--force", "delete every object, version and upload in progress in it first"),
  )
    .description(
      "Delete a bucket. One that holds objects (or versions, or uploads in progress) is refused " +
        "unless --force, which deletes every object version and delete marker and aborts its uploads first.",
    )
    .action(
      ctx.action(async (bucket: string, o: Flags<{ force?: boolean }>) => {
        const name = bucketName(bucket);
        const api = s3Api(ctx, o);
        if (o.force) {
          const deleted = await emptyBucket(api, name);
          if (deleted > 0)
            ctx.stdout.write(`deleted ${deleted} object version${deleted === 1 ? "" : "s"} in ${name}\n`);
        }
        try {
          await api.headers("DELETE", objectPath(name));
        } catch (err) {
          if (err instanceof S3CallError && err.code === "BucketNotEmpty")
            throw new Error(`${err.message}\n--force deletes everything in it first`);
          throw err;
        }
        ctx.stdout.write(`deleted the bucket ${name}\n`);
        return 0;
      }),
    );
  return cmd;
}
