/**
 * Streamed responses as their readers receive them: the HTTP integration prelude a function
 * writes ahead of its body for a function URL (`awslambda.HttpResponseStream.from`), its
 * content type, its delimiter, and reading it off the front of a stream.
 */

/** The content type of a stream that starts with an HTTP integration prelude. */
export const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";

/** The prelude ends with this many NUL bytes (JSON text never holds one). */
export const PRELUDE_DELIMITER_BYTES = 8;

/** A prelude longer than this is refused: it is a status, headers and cookies. */
export const MAX_PRELUDE_BYTES = 64 * 1024;

/** What a function says of its HTTP response before the body: `{statusCode, headers, cookies}`. */
export interface HttpIntegrationPrelude {
  readonly statusCode?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: readonly string[];
}

/** The function's prelude is not one: no delimiter, too long, not JSON, or fields of the wrong type. */
export class PreludeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreludeError";
  }
}

const DELIMITER = Buffer.alloc(PRELUDE_DELIMITER_BYTES);

/**
 * Reads the prelude off the front of `body` and returns it with the rest of the stream (the
 * response body, from the byte after the delimiter). Rejects with a PreludeError when the
 * function wrote no valid prelude, and with the stream's own error when the stream fails
 * first (the invocation failed); the rest of the stream stays the caller's to read or cancel.
 */
export async function splitHttpIntegrationPrelude(
  body: ReadableStream<Uint8Array>,
  maxPreludeBytes = MAX_PRELUDE_BYTES,
): Promise<{ prelude: HttpIntegrationPrelude; body: ReadableStream<Uint8Array> }> {
  const reader = body.getReader();
  let head: Buffer = Buffer.alloc(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      throw new PreludeError(
        `the response ended after ${head.length} bytes without the prelude's delimiter (${PRELUDE_DELIMITER_BYTES} NUL bytes)`,
      );
    }
    // The delimiter may straddle two chunks: search from just before the new bytes.
    const from = Math.max(0, head.length - (PRELUDE_DELIMITER_BYTES - 1));
    head = head.length === 0 ? Buffer.from(value) : Buffer.concat([head, value]);
    const at = head.indexOf(DELIMITER, from);
    if (at !== -1 && at <= maxPreludeBytes) {
      const prelude = parsePrelude(head.subarray(0, at));
      return { prelude, body: rest(head.subarray(at + PRELUDE_DELIMITER_BYTES), reader) };
    }
    if (head.length > maxPreludeBytes + PRELUDE_DELIMITER_BYTES) {
      await reader.cancel().catch(() => {});
      throw new PreludeError(`the response's prelude is longer than ${maxPreludeBytes} bytes`);
    }
  }
}

function parsePrelude(bytes: Buffer): HttpIntegrationPrelude {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new PreludeError(`the response's prelude is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new PreludeError("the response's prelude must be a JSON object: {statusCode, headers, cookies}");
  }
  const { statusCode, headers, cookies } = v as Record<string, unknown>;
  if (statusCode !== undefined && !(Number.isInteger(statusCode) && (statusCode as number) >= 100)) {
    throw new PreludeError(
      `the prelude's statusCode is ${JSON.stringify(statusCode)}: it must be an integer status`,
    );
  }
  if (
    headers !== undefined &&
    (typeof headers !== "object" ||
      headers === null ||
      Array.isArray(headers) ||
      Object.values(headers).some((h) => typeof h !== "string"))
  ) {
    throw new PreludeError("the prelude's headers must be an object of string values");
  }
  if (cookies !== undefined && !(Array.isArray(cookies) && cookies.every((c) => typeof c === "string"))) {
    throw new PreludeError("the prelude's cookies must be an array of strings");
  }
  return v as HttpIntegrationPrelude;
}

/** `first`, then whatever `reader` still has, pulled as the new stream is read. */
function rest(first: Buffer, reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let pending: Buffer | undefined = first.length > 0 ? first : undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending) {
          controller.enqueue(pending);
          pending = undefined;
          return;
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
