/** `nimbus versions publish|ls`: a function's published versions, through the Lambda API. */
import { Command } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { type FunctionConfiguration, functionPath } from "./functions.js";

export function versionsCommand(ctx: CliContext): Command {
  const cmd = new Command("versions")
    .alias("version")
    .summary("publish and list a function's versions")
    .description(
      "Publish and list a function's versions: immutable snapshots of its code and configuration.",
    );

  withConnection(
    withJson(
      cmd
        .command("publish")
        .summary("publish $LATEST as a new version")
        .argument("<name>", "the function's name or ARN")
        .option("--description <text>", "the version's description")
        .option("--code-sha256 <sha>", "publish only if $LATEST's code still has this SHA-256 (base64)"),
    ),
  )
    .description(
      "Publish the function's $LATEST code and configuration as a new, numbered version. When nothing " +
        "changed since the last version, that version is returned instead, as Lambda does.\n\n" +
        "--json prints Lambda's PublishVersion answer (the version's configuration).",
    )
    .action(
      ctx.action(async (name: string, o: Flags<{ description?: string; codeSha256?: string }>) => {
        const v = await ctx.client(o).json<FunctionConfiguration>("POST", functionPath(name, "versions"), {
          body: JSON.stringify({
            ...(o.description === undefined ? {} : { Description: o.description }),
            ...(o.codeSha256 === undefined ? {} : { CodeSha256: o.codeSha256 }),
          }),
        });
        if (o.json) ctx.json(v);
        else
          ctx.stdout.write(`published ${v.FunctionName} version ${v.Version} (CodeSha256 ${v.CodeSha256})\n`);
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("ls")
        .alias("list")
        .summary("list a function's versions")
        .argument("<name>", "the function's name or ARN"),
    ),
  )
    .description(
      "List a function's versions, $LATEST first.\n\n" +
        '--json prints Lambda\'s ListVersionsByFunction answer: {"Versions": [...]}.',
    )
    .action(
      ctx.action(async (name: string, o: Flags) => {
        const body = await ctx
          .client(o)
          .json<{ Versions: FunctionConfiguration[] }>("GET", functionPath(name, "versions"));
        if (o.json) ctx.json({ Versions: body.Versions });
        else
          ctx.stdout.write(
            table(
              ["VERSION", "CODE SHA256", "LAST MODIFIED", "DESCRIPTION"],
              body.Versions.map((v) => [v.Version, v.CodeSha256, v.LastModified, v.Description]),
            ),
          );
        return 0;
      }),
    );
  return cmd;
}
