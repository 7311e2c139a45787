/**
 * InvokeWithResponseStream's answer in the AWS event-stream encoding
 * (`application/vnd.amazon.eventstream`): one `PayloadChunk` event per chunk of the function's
 * response, then one `InvokeComplete`. Each message is a prelude (total and headers length and
 * their CRC32), the headers `:event-type`, `:message-type` and `:content-type`, the payload and
 * the message's CRC32: encoded by the codec the AWS SDKs decode with (`@smithy/core`), loaded
 * on the first streamed invocation rather than with the platform.
 */
import type { EventStreamCodec } from "@smithy/core/event-streams";

export const EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream";

/** InvokeComplete's fields, as the SDK reads them. */
export interface InvokeCompleteEvent {
  readonly ErrorCode?: string;
  readonly ErrorDetails?: string;
  /** Base64 of the last 4 KB of the invocation's log (LogType Tail). */
  readonly LogResult?: string;
}

/** Encodes the events of one streamed answer. */
export interface EventStreamEncoder {
  payloadChunk(bytes: Uint8Array): Uint8Array;
  invokeComplete(event: InvokeCompleteEvent): Uint8Array;
}

let loading: Promise<EventStreamEncoder> | undefined;

/** The encoder, once its codec is loaded (the first call loads it). */
export function eventStreamEncoder(): Promise<EventStreamEncoder> {
  loading ??= import("@smithy/core/event-streams").then(({ EventStreamCodec }) =>
    encoderOf(
      new EventStreamCodec(
        (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
        (text) => Buffer.from(text, "utf8"),
      ),
    ),
  );
  return loading;
}

function encoderOf(codec: EventStreamCodec): EventStreamEncoder {
  const event = (type: string, contentType: string, body: Uint8Array) =>
    codec.encode({
      headers: {
        ":event-type": { type: "string", value: type },
        ":message-type": { type: "string", value: "event" },
        ":content-type": { type: "string", value: contentType },
      },
      body,
    });
  return {
    payloadChunk: (bytes) => event("PayloadChunk", "application/octet-stream", bytes),
    invokeComplete: (fields) =>
      event("InvokeComplete", "application/json", Buffer.from(JSON.stringify(fields), "utf8")),
  };
}
