/**
 * Child-process entry for the process-isolation floor: a bare node:http server that hands each
 * request to one of N handler processes over a Unix socket (one length-prefixed frame each
 * way) and answers with what comes back. No auth, no routing, no records, no logs: what is
 * left is the cost of running the handler in another process, which any platform that isolates
 * instances pays. Started as `bare-relay.js HANDLER_FILE N`, it prints its port and its handler
 * processes' pids on stdout (`PORT PID,PID…`); with
 * `--instance SOCKET HANDLER_FILE` it is one of the handler processes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, createConnection, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Handler = (event: unknown) => Promise<unknown>;

/** Calls `onFrame` for each u32-length-prefixed frame read from the socket. */
function readFrames(socket: Socket, onFrame: (body: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      const length = buffered.readUInt32BE(0);
      onFrame(buffered.subarray(4, 4 + length));
      buffered = buffered.subarray(4 + length);
    }
  });
}

function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

async function instance(socketPath: string, handlerFile: string): Promise<void> {
  const { handler } = (await import(pathToFileURL(handlerFile).href)) as { handler: Handler };
  const socket = createConnection(socketPath);
  readFrames(socket, async (body) => {
    const result = await handler(body.length === 0 ? {} : JSON.parse(body.toString("utf8")));
    socket.write(frame(Buffer.from(JSON.stringify(result))));
  });
}

async function relay(handlerFile: string, count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-bench-relay-"));
  const socketPath = join(dir, "relay.sock");
  const idle: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const replies = new Map<Socket, (body: Buffer) => void>();
  const release = (s: Socket) => {
    const next = waiting.shift();
    if (next) next(s);
    else idle.push(s);
  };
  const ready = new Promise<void>((resolve) => {
    let connected = 0;
    createNetServer((s) => {
      readFrames(s, (body) => replies.get(s)?.(body));
      release(s);
      if (++connected === count) resolve();
    }).listen(socketPath);
  });
  const self = fileURLToPath(import.meta.url);
  const pids = Array.from(
    { length: count },
    () =>
      spawn(process.execPath, [self, "--instance", socketPath, handlerFile], { env: {}, stdio: "inherit" })
        .pid,
  );
  await ready;
  rmSync(dir, { recursive: true, force: true });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const s = idle.pop() ?? (await new Promise<Socket>((r) => waiting.push(r)));
      const out = await new Promise<Buffer>((resolve) => {
        replies.set(s, resolve);
        s.write(frame(Buffer.concat(chunks)));
      });
      release(s);
      res.writeHead(200, { "content-type": "application/json", "content-length": out.length });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${(server.address() as AddressInfo).port} ${pids.join(",")}\n`);
  });
}

const [mode, a, b] = process.argv.slice(2);
if (mode === "--instance" && a && b) await instance(a, b);
else if (mode && a && Number(a) >= 1) await relay(mode, Number(a));
else throw new Error("usage: bare-relay.js HANDLER_FILE N | bare-relay.js --instance SOCKET HANDLER_FILE");
