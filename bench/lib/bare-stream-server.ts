/**
 * Child-process entry for the streaming baseline: the same streaming handler file the platform
 * runs, behind a bare node:http server that hands it the response itself as its stream. A
 * minimal `awslambda` global stands in for the runtime's: `streamifyResponse` leaves the handler
 * as it is and `HttpResponseStream.from` writes the prelude's status and headers. Each write
 * goes to the socket at once (the server sets no delay), so what is left is what any server pays
 * to stream a chunk. Prints its port on stdout.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";

type StreamingHandler = (event: unknown, stream: ServerResponse) => Promise<void>;

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
}

(globalThis as { awslambda?: object }).awslambda = {
  streamifyResponse: (handler: StreamingHandler) => handler,
  HttpResponseStream: {
    from(stream: ServerResponse, prelude: Prelude): ServerResponse {
      stream.writeHead(prelude.statusCode ?? 200, prelude.headers ?? {});
      return stream;
    },
  },
};

const handlerFile = process.argv[2];
if (!handlerFile) throw new Error("usage: bare-stream-server.js HANDLER_FILE");
const { handler } = (await import(pathToFileURL(handlerFile).href)) as { handler: StreamingHandler };

const server = createServer((req, res) => {
  req.resume();
  req.on("end", async () => {
    await handler({}, res);
    if (!res.writableEnded) res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
