/**
 * The digests SQS returns beside a message (`MD5OfMessageBody`, `MD5OfMessageAttributes`,
 * `MD5OfMessageSystemAttributes`), which clients recompute and compare: the JS SDK checks the
 * body's on every send and receive, the Java SDK the attributes' too, and fails the call when
 * one differs.
 */
import { createHash, type Hash } from "node:crypto";

/** A message (or message system) attribute as the wire carries it; BinaryValue in base64. */
export interface WireAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: string | undefined;
}

/** How the attributes' digest marks a value's kind, between its data type and the value. */
const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

/** Hex MD5 of the body's UTF-8 bytes. */
export function md5OfBody(body: string): string {
  return createHash("md5").update(body, "utf8").digest("hex");
}

/**
 * Hex MD5 of message attributes as SQS computes it (the same for message system attributes):
 * by name in code-unit order, each as length-prefixed name and data type, a transport byte,
 * and the length-prefixed value. Undefined when there are none, as SQS then returns no digest.
 */
export function md5OfMessageAttributes(
  attrs: Readonly<Record<string, WireAttributeValue>>,
): string | undefined {
  const names = Object.keys(attrs).sort();
  if (names.length === 0) return undefined;
  const hash = createHash("md5");
  for (const name of names) {
    const attr = attrs[name]!;
    withLength(hash, Buffer.from(name, "utf8"));
    withLength(hash, Buffer.from(attr.DataType, "utf8"));
    // The SDKs choose the transport by the value present, not by the data type's name, so a
    // custom type (`Binary.png`, `Number.int`) digests as its value's kind.
    if (attr.BinaryValue !== undefined) {
      hash.update(Uint8Array.of(BINARY_TRANSPORT));
      withLength(hash, Buffer.from(attr.BinaryValue, "base64"));
    } else {
      hash.update(Uint8Array.of(STRING_TRANSPORT));
      withLength(hash, Buffer.from(attr.StringValue ?? "", "utf8"));
    }
  }
  return hash.digest("hex");
}

/** A 4-byte big-endian length, then the bytes. */
function withLength(hash: Hash, bytes: Buffer): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  hash.update(length).update(bytes);
}
