/** `nimbus sandbox`: a function's sandbox tier and network policy. */
import { parseArgs } from "node:util";
import { NimbusClient, resolveClientOptions } from "../client.js";

const USAGE =
  "usage: nimbus sandbox NAME                          show its settings\n" +
  "       nimbus sandbox NAME [--tier default|jail|gvisor|process] [--internet|--no-internet] [--allow DEST]...\n" +
  "       nimbus sandbox NAME --reset                  back to the platform's defaults (no network)\n" +
  'DEST is an IPv4 address or CIDR block with an optional port: "10.0.0.5:5432", "10.1.0.0/16";\n' +
  '"127.0.0.1:PORT" opens a port of the host\'s loopback, reached inside as host.nimbus.internal.\n' +
  "Setting any of them replaces the whole policy; the function's instances restart under it.";

interface Settings {
  tier: string;
  internet: boolean;
  allow: string[];
}

export async function sandbox(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tier: { type: "string" },
      internet: { type: "boolean" },
      "no-internet": { type: "boolean" },
      allow: { type: "string", multiple: true },
      reset: { type: "boolean" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const [name, extra] = positionals;
  if (!name || extra !== undefined) throw new Error(USAGE);
  if (values.internet && values["no-internet"])
    throw new Error(`${USAGE}\n--internet and --no-internet contradict`);
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const path = `/nimbus/v1/functions/${encodeURIComponent(name)}/sandbox`;
  const setting = values.tier !== undefined || values.internet || values["no-internet"] || values.allow;
  if (values.reset) {
    if (setting) throw new Error(`${USAGE}\n--reset takes no other setting`);
    await client.call("DELETE", path);
  } else if (setting) {
    const body = {
      ...(values.tier === undefined ? {} : { tier: values.tier }),
      internet: values.internet === true,
      allow: values.allow ?? [],
    };
    await client.call("PUT", path, { body: JSON.stringify(body) });
  }
  const s = (await (await client.call("GET", path)).json()) as Settings;
  process.stdout.write(values.json ? `${JSON.stringify(s)}\n` : describe(name, s));
  return 0;
}

function describe(name: string, s: Settings): string {
  const network =
    !s.internet && s.allow.length === 0
      ? "none (its Runtime API only)"
      : [s.internet ? "the internet (public addresses)" : "", ...s.allow].filter(Boolean).join(", ");
  return `${name}\n  tier     ${s.tier === "default" ? "the platform's default" : s.tier}\n  network  ${network}\n`;
}
