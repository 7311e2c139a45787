/** `nimbus deploy DIR --name NAME`: packages a directory (bundling TypeScript) and creates or updates the function. */
import { parseArgs } from "node:util";
import { buildPackage } from "../../shared/package-builder.js";
import { NimbusClient, resolveClientOptions } from "../client.js";

export async function deploy(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      handler: { type: "string" },
      runtime: { type: "string" },
      memory: { type: "string" },
      timeout: { type: "string" },
      env: { type: "string", multiple: true },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const dir = positionals[0];
  if (!dir || !values.name)
    throw new Error(
      "usage: nimbus deploy DIR --name NAME [--handler index.handler] [--runtime nodejs20.x] [--memory MB] [--timeout S] [--env K=V]",
    );
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const runtime = values.runtime ?? "nodejs20.x";
  const built = await buildPackage(
    dir,
    runtime.startsWith("provided")
      ? { handler: "bootstrap.handler" }
      : { handler: values.handler ?? "index.handler" },
  );
  const config: Record<string, unknown> = {
    Runtime: runtime,
    Handler: runtime.startsWith("provided") ? (values.handler ?? "bootstrap") : built.handler,
  };
  if (values.memory) config.MemorySize = Number(values.memory);
  if (values.timeout) config.Timeout = Number(values.timeout);
  if (values.env)
    config.Environment = {
      Variables: Object.fromEntries(
        values.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      ),
    };
  const path = `/2015-03-31/functions/${encodeURIComponent(values.name)}`;
  const exists = (await client.request("GET", `${path}/configuration`)).status === 200;
  let fn: { FunctionName: string; CodeSha256: string; Version: string; CodeSize: number };
  if (!exists) {
    const res = await client.call("POST", "/2015-03-31/functions", {
      body: JSON.stringify({
        FunctionName: values.name,
        ...config,
        Code: { ZipFile: built.zip.toString("base64") },
      }),
    });
    fn = (await res.json()) as typeof fn;
  } else {
    await client.call("PUT", `${path}/code`, {
      body: JSON.stringify({ ZipFile: built.zip.toString("base64") }),
    });
    const res = await client.call("PUT", `${path}/configuration`, { body: JSON.stringify(config) });
    fn = (await res.json()) as typeof fn;
  }
  process.stdout.write(
    `${exists ? "updated" : "created"} ${fn.FunctionName}: ${built.files} file(s)${built.bundled ? " bundled with esbuild" : ""}, ${fn.CodeSize} bytes, CodeSha256 ${fn.CodeSha256}\n`,
  );
  return 0;
}
