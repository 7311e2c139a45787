/** `nimbus sandbox`: a function's sandbox tier and network policy. */
import { Command } from "commander";
import { SANDBOX_TIERS } from "../../protocol/sandbox.js";
import type { ConnectionFlags } from "../client.js";
import type { CliContext } from "../context.js";
import { collect, oneOf, withConnection, withJson } from "../options.js";
import { UsageError } from "../usage-error.js";

interface Settings {
  tier: string;
  internet: boolean;
  allow: string[];
}

interface SandboxOptions extends ConnectionFlags {
  tier?: string;
  internet?: boolean;
  allow?: string[];
  reset?: boolean;
  json?: boolean;
}

export function sandboxCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("sandbox")
        .summary("a function's sandbox tier and network")
        .description(
          "Show a function's sandbox settings, or change them. Setting any of them replaces the whole " +
            "policy; the function's instances restart under it. --json prints the settings as the Nimbus " +
            "API answers them: {tier, internet, allow}.",
        )
        .argument("<name>", "the function's name")
        .option(
          "--tier <tier>",
          `where its instances run: default, ${SANDBOX_TIERS.join(", ")}`,
          oneOf("default", ...SANDBOX_TIERS),
        )
        .option("--internet", "let it reach public addresses")
        .option("--no-internet", "no public addresses (the default)")
        .option("--allow <dest>", "an address or CIDR block with an optional port; repeatable", collect)
        .option("--reset", "back to the platform's defaults (no network)"),
    ),
  )
    .addHelpText(
      "after",
      '\nDEST is an IPv4 address or CIDR block with an optional port: "10.0.0.5:5432", "10.1.0.0/16";\n' +
        '"127.0.0.1:PORT" opens a port of the host\'s loopback, reached inside as host.nimbus.internal.\n',
    )
    .action(
      ctx.action(async (name: string, o: SandboxOptions) => {
        const client = ctx.client(o);
        const path = `/nimbus/v1/functions/${encodeURIComponent(name)}/sandbox`;
        const setting = o.tier !== undefined || o.internet !== undefined || o.allow !== undefined;
        if (o.reset) {
          if (setting) throw new UsageError("--reset takes no other setting");
          await client.call("DELETE", path);
        } else if (setting) {
          const body = {
            ...(o.tier === undefined ? {} : { tier: o.tier }),
            internet: o.internet === true,
            allow: o.allow ?? [],
          };
          await client.call("PUT", path, { body: JSON.stringify(body) });
        }
        const s = await client.json<Settings>("GET", path);
        if (o.json) ctx.stdout.write(`${JSON.stringify(s)}\n`);
        else ctx.stdout.write(describe(name, s));
        return 0;
      }),
    );
}

function describe(name: string, s: Settings): string {
  const network =
    !s.internet && s.allow.length === 0
      ? "none (its Runtime API only)"
      : [s.internet ? "the internet (public addresses)" : "", ...s.allow].filter(Boolean).join(", ");
  return `${name}\n  tier     ${s.tier === "default" ? "the platform's default" : s.tier}\n  network  ${network}\n`;
}
