/**
 * The Runtime API on an instance's Unix socket, in Nimbus's frames (`protocol/runtime-frames`):
 * the same operations and answers as the HTTP endpoint, without an HTTP exchange per call.
 * Who may connect is decided by the directory holding the socket (the sandbox's own).
 */
import { chmod } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { encodeFrame, FrameDecoder, type RuntimeCall } from "../../protocol/runtime-frames.js";
import {
  ACCEPTED,
  type ApiAnswer,
  apiError,
  eventHeaders,
  type RuntimeApiTarget,
  type RuntimeBody,
  type StreamWriter,
} from "./target.js";

export class FramedRuntimeApi {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: RuntimeApiTarget) {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      serve(target, socket);
    });
  }

  async listen(socketPath: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o666);
  }

  close(): void {
    if (!this.#server.listening) return;
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
  }
}

function serve(target: RuntimeApiTarget, socket: Socket): void {
  socket.setNoDelay(true);

  const decoder = new FrameDecoder();
  // Answers go back in the order the calls came: a call waits for the one before it.
  let chain: Promise<void> = Promise.resolve();
  const answer = (a: ApiAnswer) => {
    if (!socket.destroyed)
      socket.write(encodeFrame({ op: "answer", status: a.status }, JSON.stringify(a.body)));
  };
  const next = (functionInitMs?: number) =>
    target.next(
      {
        send: (req) => {
          if (!socket.destroyed)
            socket.write(encodeFrame({ op: "event", headers: eventHeaders(req) }, req.payload));
        },
        destroy: () => socket.destroy(),
      },
      typeof functionInitMs === "number" && functionInitMs >= 0 ? { functionInitMs } : undefined,
    );
  // The streamed response in progress on this connection (the runtime sends one at a time).
  let stream: StreamWriter | undefined;
  const push = (bytes: Buffer) => {
    if (!stream || bytes.length === 0 || stream.write(bytes)) return;
    // The reader is behind: read no more from the runtime until it catches up.
    socket.pause();
    stream.whenReady(() => socket.resume());
  };
  // After a response or a stream's end: the answer, or the next event when the runtime asked for it.
  const answered = (a: ApiAnswer, thenNext: boolean) => {
    if (thenNext) {
      if (a.status !== ACCEPTED.status) answer(a);
      next();
      return;
    }
    // The caller's response goes out first: the runtime waits for this answer only to
    // ask for its next event, which cannot come sooner anyway.
    setImmediate(() => answer(a));
  };
  socket.on("data", (chunk: Buffer) => {
    let frames: ReturnType<FrameDecoder["push"]>;
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      const call = frame.header as RuntimeCall;
      chain = chain.then(async () => {
        switch (call.op) {
          case "next":
            next(call.functionInitMs);
            return;
          case "response":
          case "error": {
            const a = await target.complete(String(call.requestId), call.op, body(call.headers, frame.body));
            answered(a, call.next === true);
            return;
          }
          case "stream-start":
            stream = target.beginStream(String(call.requestId), call.headers?.["content-type"]);
            push(frame.body);
            return;
          case "stream-chunk":
            push(frame.body);
            return;
          case "stream-end": {
            const writer = stream;
            stream = undefined;
            const a = writer
              ? await writer.end(
                  typeof call.errorType === "string"
                    ? { errorType: call.errorType, body: frame.body }
                    : undefined,
                )
              : apiError(403, "InvalidStateTransition", "no streamed response is open on this connection");
            answered(a, call.next === true);
            return;
          }
          case "await-function":
            if (!target.awaitFunction) {
              answer(apiError(400, "NotPooled", "this runtime was started for a function already"));
              return;
            }
            target.awaitFunction((env) => {
              if (!socket.destroyed) socket.write(encodeFrame({ op: "function", env }));
            });
            return;
          case "init-error":
            answer(await target.initError(body(call.headers, frame.body)));
            return;
          default:
            answer(apiError(404, "NotFound", `no such Runtime API call: ${JSON.stringify(call)}`));
        }
      });
    }
  });
  socket.on("error", () => socket.destroy());
  // Queued behind the frames already read, so a stream-end that came just before the close counts.
  socket.once("close", () => {
    chain = chain.then(() => {
      const writer = stream;
      stream = undefined;
      writer?.cut();
    });
  });
}

function body(headers: Record<string, string> | undefined, bytes: Buffer): RuntimeBody {
  const h = headers ?? {};
  return {
    header: (name) => (typeof h[name] === "string" ? h[name] : undefined),
    read: async (limit) => (bytes.length > limit ? undefined : bytes),
    declaredLength: bytes.length,
    discard: () => {},
  };
}
