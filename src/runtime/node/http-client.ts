// The Runtime API over HTTP, at AWS_LAMBDA_RUNTIME_API: what the runtime uses wherever Nimbus
// does not offer its framed Unix socket. Loaded only then: requiring node:http costs ~3 ms of
// every cold start.
import { Agent, type ClientRequest, type IncomingMessage, type RequestOptions, request } from "node:http";
import {
  type ApiResponse,
  ERROR_BODY_TRAILER,
  ERROR_TYPE_HEADER,
  errorBody,
  headerSafe,
  PREFIX,
  RESPONSE_MODE_HEADER,
  type ResponseSink,
  type RuntimeApi,
} from "./runtime-api-client.js";

/** One keep-alive connection to the Runtime API, as the AWS client keeps (`maxSockets: 1`, no timeout). */
export class RuntimeApiClient implements RuntimeApi {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #host: string;
  readonly #port: number;

  constructor(hostPort: string) {
    const colon = hostPort.lastIndexOf(":");
    const port = Number(hostPort.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`AWS_LAMBDA_RUNTIME_API is "${hostPort}", expected host:port`);
    }
    this.#host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    this.#port = port;
  }

  /** Long-polls for the next invocation; anything but 200 is a platform fault the runtime cannot recover from. */
  async next(): Promise<ApiResponse> {
    const res = await this.#send("GET", `${PREFIX}/invocation/next`);
    if (res.status !== 200) {
      throw new Error(`GET ${PREFIX}/invocation/next answered ${res.status}, expected 200: ${res.body}`);
    }
    return res;
  }

  postResponse(requestId: string, json: string): Promise<ApiResponse> {
    return this.#send("POST", `${PREFIX}/invocation/${encodeURIComponent(requestId)}/response`, json);
  }

  postError(requestId: string, error: unknown): Promise<ApiResponse> {
    return this.#postError(`${PREFIX}/invocation/${encodeURIComponent(requestId)}/error`, error);
  }

  postInitError(error: unknown): Promise<ApiResponse> {
    return this.#postError(`${PREFIX}/init/error`, error);
  }

  /**
   * One chunked POST, as aws-lambda-ric sends it: its headers go with the first write, each
   * write is a chunk, and an error that cuts it short travels in its trailers.
   */
  openStream(requestId: string): ResponseSink {
    let req: ClientRequest | undefined;
    let answer: Promise<ApiResponse> | undefined;
    let failure: Error | undefined;
    let ended = false;
    const open = (contentType: string): ClientRequest => {
      const options: RequestOptions & { servername: string } = {
        host: this.#host,
        port: this.#port,
        servername: "",
        method: "POST",
        path: `${PREFIX}/invocation/${encodeURIComponent(requestId)}/response`,
        agent: this.#agent,
        headers: {
          [RESPONSE_MODE_HEADER]: "streaming",
          "content-type": contentType,
          "transfer-encoding": "chunked",
          trailer: `${ERROR_TYPE_HEADER}, ${ERROR_BODY_TRAILER}`,
        },
      };
      const r = request(options);
      // While the function writes, the connection holds the process no more than the framed
      // one does (writes in flight still do): a handler that leaves its stream unended with
      // nothing left to run is then noticed when the loop drains, not at the timeout.
      r.on("socket", (socket) => {
        if (!ended) socket.unref();
      });
      answer = new Promise((resolve, reject) => {
        r.on("response", (res) => resolve(readAll(res)));
        r.on("error", (err) => {
          failure = err;
          reject(err);
        });
      });
      // Seen by whoever waits on the end; a write in flight learns of it through its callback.
      answer.catch(() => {});
      req = r;
      return r;
    };
    return {
      write: (bytes, contentType, done) => {
        const r = req ?? open(contentType);
        if (failure) return done(failure);
        if (r.write(bytes)) return done();
        const resume = (err?: Error) => {
          r.off("drain", resume);
          r.off("error", resume);
          done(err);
        };
        r.once("drain", resume);
        r.once("error", resume);
      },
      end: (contentType, error) => {
        const r = req ?? open(contentType);
        ended = true;
        r.socket?.ref();
        if (error) {
          r.addTrailers({
            [ERROR_TYPE_HEADER]: headerSafe(error.errorType),
            [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(error)).toString("base64"),
          });
        }
        r.end();
        return answer!;
      },
    };
  }

  #postError(path: string, error: unknown): Promise<ApiResponse> {
    const body = errorBody(error);
    return this.#send("POST", path, JSON.stringify(body), {
      [ERROR_TYPE_HEADER]: headerSafe(body.errorType),
    });
  }

  #send(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
    retried = false,
  ): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const options: RequestOptions & { servername: string } = {
        host: this.#host,
        port: this.#port,
        // A TLS name is meaningless here, and without one Node's agent derives it from the
        // host with its IPv6 regular expression on every request (~1 ms the first time).
        servername: "",
        method,
        path,
        agent: this.#agent,
        headers:
          body === undefined
            ? headers
            : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      };
      const req = request(options, (res) => resolve(readAll(res)));
      req.on("error", (err: NodeJS.ErrnoException) => {
        // The server may close an idle keep-alive socket just as we reuse it; Node's docs advise one retry.
        if (req.reusedSocket && !retried && err.code === "ECONNRESET") {
          resolve(this.#send(method, path, body, headers, true));
        } else {
          reject(err);
        }
      });
      req.end(body);
    });
  }
}

/** The whole of an answer from the Runtime API (a small JSON body). */
function readAll(res: IncomingMessage): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      text += chunk;
    });
    res.on("error", reject);
    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
  });
}
