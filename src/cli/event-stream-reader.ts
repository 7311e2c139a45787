/**
 * Reads InvokeWithResponseStream's answer (`application/vnd.amazon.eventstream`) as it
 * arrives: each message is decoded as soon as its last byte is in, so a chunk the function
 * wrote reaches the user while the function still runs. The framing (prelude, headers, CRC32s)
 * is decoded by the codec the AWS SDKs read this answer with, loaded only by `invoke --stream`.
 */

/** One event of a streamed invocation's answer. */
export type InvokeStreamEvent =
  | { readonly type: "PayloadChunk"; readonly payload: Uint8Array }
  | { readonly type: "InvokeComplete"; readonly complete: InvokeComplete };

/** InvokeComplete's fields, as the platform (and Lambda) sends them. */
export interface InvokeComplete {
  readonly ErrorCode?: string;
  readonly ErrorDetails?: string;
  /** Base64 of the log's last 4 KB (with `X-Amz-Log-Type: Tail`). */
  readonly LogResult?: string;
}

/** Decodes the events of `body` one by one, as their bytes arrive, however the bytes are cut. */
export async function* readInvokeEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<InvokeStreamEvent, void, undefined> {
  const { EventStreamCodec, getChunkedStream } = await import("@smithy/core/event-streams");
  const codec = new EventStreamCodec(
    (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
    (text) => Buffer.from(text, "utf8"),
  );
  for await (const bytes of getChunkedStream(body)) {
    const message = codec.decode(bytes);
    const header = (name: string) => {
      const h = message.headers[name];
      return h?.type === "string" ? h.value : undefined;
    };
    const messageType = header(":message-type");
    if (messageType === "exception" || messageType === "error") {
      // The service failed the stream itself (not the function): say what it said.
      const code = header(":exception-type") ?? header(":error-code") ?? "ServiceException";
      const text = Buffer.from(message.body).toString("utf8");
      throw new Error(`${code}: ${header(":error-message") ?? text}`);
    }
    const type = header(":event-type");
    if (type === "PayloadChunk") yield { type, payload: message.body };
    else if (type === "InvokeComplete")
      yield { type, complete: JSON.parse(Buffer.from(message.body).toString("utf8")) as InvokeComplete };
    // Any other event type is one a later API version added: skipped, as the SDKs skip it.
  }
}
