/**
 * Child-process entry for the baseline: the same handler file behind a bare node:http server,
 * no framework, no auth, no second hop. Prints its port on stdout.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";

type Handler = (event: unknown) => Promise<unknown>;

const handlerFile = process.argv[2];
if (!handlerFile) throw new Error("usage: bare-server.js HANDLER_FILE");
const { handler } = (await import(pathToFileURL(handlerFile).href)) as { handler: Handler };

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks);
    const result = await handler(body.length === 0 ? {} : JSON.parse(body.toString("utf8")));
    const out = Buffer.from(JSON.stringify(result));
    res.writeHead(200, { "content-type": "application/json", "content-length": out.length });
    res.end(out);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
