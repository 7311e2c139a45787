/**
 * A response body read from an open file, sent by the HTTP server straight from the file into
 * the socket through a few buffers it reuses (`sendFileBody`), where a Web stream would allocate
 * a new buffer for every 64 KiB read. Those allocations are what a large download cost: each
 * 64 MiB GET made 64 MiB of short-lived buffers, and the collections they set off mark the
 * platform's whole heap (measured: ~74 ms of garbage collection per 64 MiB GET, half of its
 * time on the event loop).
 *
 * The body is still a Web `ReadableStream` (`fileBody`), so middleware may set headers on its
 * response or wrap it in a new one (the stream travels with it), and a caller that is not the
 * Node server (a test's `app.request`) reads it as any other stream. The stream is known by the
 * request it answers, so the server looks for one with a lookup, not by reading every
 * response's body (which would cost each of them a copy); it takes the file before any byte is
 * read (`takeFileBody`). Whichever side reads the file closes it.
 */
import type { ServerResponse } from "node:http";
import type { OpenBytes } from "../services/storage/blobs.js";

/** Bytes read per system call, and the size of each reused buffer. */
const CHUNK_BYTES = 256 * 1024;
/** Buffers a response may have in flight (read, or written and not yet flushed to the socket). */
const BUFFERS = 4;

/** The file bodies made for requests in flight, by request: what the server looks for. */
const bodies = new WeakMap<Request, { stream: ReadableStream<Uint8Array>; bytes: OpenBytes }>();

/**
 * The file's bytes as `request`'s response body: a stream the Node server takes whole (see the
 * module's comment), or that anyone else reads; the file closes at its end or cancel.
 */
export function fileBody(request: Request, bytes: OpenBytes): ReadableStream<Uint8Array> {
  let position = bytes.start;
  const end = bytes.start + bytes.length;
  const close = () => bytes.handle.close().catch(() => {});
  const entry = {
    bytes,
    stream: new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (position >= end) {
          await close();
          return controller.close();
        }
        const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, end - position));
        try {
          const { bytesRead } = await bytes.handle.read(buffer, 0, buffer.length, position);
          if (bytesRead === 0) throw new Error(`the file ended ${end - position} bytes early`);
          position += bytesRead;
          controller.enqueue(buffer.subarray(0, bytesRead));
        } catch (err) {
          await close();
          controller.error(err);
        }
      },
      async cancel() {
        await close();
      },
    }),
  };
  bodies.set(request, entry);
  return entry.stream;
}

/**
 * The file behind `response` if its body is the file body made for `request` and nobody has
 * read from it; the caller then owns the file. A file body made for the request and left out
 * of its response (an error answered instead) is closed here.
 */
export function takeFileBody(request: Request, response: Response): OpenBytes | undefined {
  const entry = bodies.get(request);
  if (entry === undefined) return undefined;
  bodies.delete(request);
  if (response.body !== entry.stream || entry.stream.locked) {
    if (!entry.stream.locked) void entry.stream.cancel();
    return undefined;
  }
  return entry.bytes;
}

/**
 * Writes the file's bytes as `res`'s body (its head already set) and ends it, then closes the
 * file. A buffer is read into again only once the socket has taken its bytes (the write's
 * callback), so at most `BUFFERS` of them exist per response. A file shorter than `length`, or
 * a read that fails, cuts the connection: the head promised `length` bytes.
 */
export async function sendFileBody(bytes: OpenBytes, res: ServerResponse): Promise<void> {
  const free: Buffer[] = [];
  let made = 0;
  let waiting: (() => void) | undefined;
  let closed = false;
  const wake = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const onClose = () => {
    closed = true;
    wake();
  };
  res.once("close", onClose);
  res.on("drain", wake);
  try {
    let position = bytes.start;
    const end = bytes.start + bytes.length;
    while (position < end && !closed) {
      let buffer = free.pop();
      if (buffer === undefined && made < BUFFERS) {
        buffer = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, bytes.length));
        made++;
      }
      if (buffer === undefined || res.writableNeedDrain) {
        if (buffer !== undefined) free.push(buffer);
        await new Promise<void>((resume) => {
          waiting = resume;
        });
        continue;
      }
      const { bytesRead } = await bytes.handle.read(
        buffer,
        0,
        Math.min(buffer.length, end - position),
        position,
      );
      if (bytesRead === 0) throw new Error(`the file ended ${end - position} bytes early`);
      position += bytesRead;
      if (closed) break;
      const taken = buffer;
      res.write(bytesRead === taken.length ? taken : taken.subarray(0, bytesRead), () => {
        free.push(taken);
        wake();
      });
    }
    if (!closed) res.end();
  } catch (err) {
    res.destroy(err as Error);
  } finally {
    res.off("close", onClose);
    res.off("drain", wake);
    await bytes.handle.close().catch(() => {});
  }
}
