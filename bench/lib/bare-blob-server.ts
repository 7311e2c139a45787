/**
 * Child-process entry for the bulk storage figure's second baseline: a bare node:http server
 * that stores a PUT's body in a file of the directory it is given (written as it arrives, then
 * fdatasync'd before the answer, as the blob store does) and answers a GET with the file, piped.
 * No framework, no auth, no checksum, no record: what carrying the bytes over the loopback to
 * another process costs, which the node:fs baseline (no socket at all) does not pay. Prints its
 * port on stdout.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

const dir = process.argv[2];
if (!dir) throw new Error("usage: bare-blob-server.js DIRECTORY");

const server = createServer((req, res) => {
  const file = join(dir, encodeURIComponent(req.url ?? "/"));
  if (req.method === "PUT") {
    void (async () => {
      await pipeline(req, createWriteStream(file));
      const handle = await open(file, "r+");
      await handle.datasync();
      await handle.close();
      res.writeHead(200, { "content-length": 0 }).end();
    })().catch((err: Error) => res.writeHead(500).end(err.message));
    return;
  }
  const stream = createReadStream(file);
  stream.once("open", () => {
    res.writeHead(200);
    stream.pipe(res);
  });
  stream.once("error", () => res.writeHead(404).end());
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
