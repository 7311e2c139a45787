// The sandbox side of the Lambda Runtime API: the few requests the Node runtime makes, and the
// error body it sends. Only node built-ins: this file runs inside the sandbox, alone.
import { Agent, type IncomingHttpHeaders, type RequestOptions, request } from "node:http";
import { types } from "node:util";

// Copied from src/protocol/runtime-api.ts: the runtime must not import project code.
const PREFIX = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER = "lambda-runtime-function-error-type";

/** An error whose `name` is the Lambda error type it is reported as (`Runtime.HandlerNotFound`). */
export class LambdaError extends Error {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The body aws-lambda-ric sends for a thrown value: an Error's name, message and stack lines, else its typeof and String. */
export function errorBody(error: unknown): ErrorBody {
  try {
    if (error instanceof Error || types.isNativeError(error)) {
      const err = error as Error;
      return {
        errorType: escapeDel(String(err.name || err.constructor?.name || "Error")),
        errorMessage: escapeDel(String(err.message)),
        trace: typeof err.stack === "string" ? escapeDel(err.stack).split("\n") : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    // A getter or toString that throws: the AWS runtime answers with this fixed body.
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
      trace: [],
    };
  }
}

// aws-lambda-ric escapes DEL, which the platform's error type and log parsers do not accept.
function escapeDel(text: string): string {
  return text.replaceAll("\x7f", "%7F");
}

// A header value must be visible ASCII; an exotic error name must not make the post itself throw.
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "_");
}

/** One keep-alive connection to the Runtime API, as the AWS client keeps (`maxSockets: 1`, no timeout). */
export class RuntimeApiClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #host: string;
  readonly #port: number;
  readonly #socketPath: string | undefined;

  /**
   * `socketPath`: a Unix socket serving the same API, which Nimbus offers its own runtime
   * (it costs a fraction of loopback TCP per request); `hostPort` is used without it.
   */
  constructor(hostPort: string, socketPath?: string) {
    this.#socketPath = socketPath || undefined;
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
        ...(this.#socketPath ? { socketPath: this.#socketPath } : { host: this.#host, port: this.#port }),
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
      const req = request(options, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("error", reject);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
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
