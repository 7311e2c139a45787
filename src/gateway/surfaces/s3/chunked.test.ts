import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { test } from "node:test";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { checksumOf } from "../../../services/storage/checksums.js";
import { Sha256 } from "../../../shared/sha256.js";
import { verifySigV4 } from "../../auth/sigv4.js";
import {
  type AwsChunkedError,
  type AwsChunkedOptions,
  ChunkedFramingError,
  ChunkSignatureError,
  type ChunkSigning,
  chunkSigningOf,
  DecodedLengthError,
  decodeAwsChunked,
  isStreamingPayload,
} from "./chunked.js";

const UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

/** The wire sample from client-s3 in the reference contract (section 3.2). */
const CONTRACT_SAMPLE = "3\r\nvm\n\r\n0\r\nx-amz-checksum-crc32:n7sxBA==\r\n\r\n";
const U3: AwsChunkedOptions = { payload: UNSIGNED, decodedLength: 3 };
const Z64 = "0".repeat(64);
const CRLF = Buffer.from("\r\n");

async function* pieces(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}
async function* byteAtATime(body: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < body.byteLength; i++) yield body.subarray(i, i + 1);
}

async function decode(source: AsyncIterable<Uint8Array> | Uint8Array | string, o: AwsChunkedOptions) {
  const input =
    typeof source === "string" || source instanceof Uint8Array ? pieces(Buffer.from(source)) : source;
  const body = decodeAwsChunked(input, o);
  const out: Uint8Array[] = [];
  for await (const piece of body) out.push(piece);
  return { data: Buffer.concat(out), trailers: Object.fromEntries(body.trailers) };
}

// AWS's published examples ("Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks", and "… Including Trailing Headers"): 66,560 bytes of 'a' sent as
// 64 KiB, 1 KiB and 0, signed with the documentation's example key on 2013-05-24, us-east-1.
const DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const DOC_DATE = "20130524T000000Z";
const DOC_DATA = Buffer.alloc(66_560, "a");
const DOC_SIGNED_HEADERS = {
  host: "s3.amazonaws.com",
  "x-amz-date": DOC_DATE,
  "x-amz-storage-class": "REDUCED_REDUNDANCY",
  "content-encoding": "aws-chunked",
  "x-amz-decoded-content-length": "66560",
};
interface DocExample {
  readonly headers: Readonly<Record<string, string>>;
  readonly signedHeaders: string;
  readonly seed: string;
  readonly chunks: readonly string[];
  readonly trailer: string;
}
const DOC_PAYLOAD: DocExample = {
  headers: { ...DOC_SIGNED_HEADERS, "content-length": "66824", "x-amz-content-sha256": SIGNED },
  signedHeaders:
    "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
  seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
  chunks: [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
  ],
  trailer: "",
};
const DOC_TRAILER: DocExample = {
  headers: {
    ...DOC_SIGNED_HEADERS,
    "x-amz-content-sha256": SIGNED_TRAILER,
    "x-amz-trailer": "x-amz-checksum-crc32c",
  },
  signedHeaders:
    "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
  seed: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
  chunks: [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
  ],
  trailer:
    "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
};

const docAuthorization = (ex: DocExample) =>
  `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${ex.signedHeaders},Signature=${ex.seed}`;

function docBody(ex: DocExample, data: Buffer = DOC_DATA): Buffer {
  const [a, b, c] = ex.chunks;
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${a}\r\n`),
    data.subarray(0, 65_536),
    Buffer.from(`\r\n400;chunk-signature=${b}\r\n`),
    data.subarray(65_536),
    Buffer.from(`\r\n0;chunk-signature=${c}\r\n${ex.trailer}\r\n`),
  ]);
}

const docSigning = (ex: DocExample, secret = DOC_SECRET): ChunkSigning =>
  chunkSigningOf(docAuthorization(ex), DOC_DATE, secret);
const docOptions = (ex: DocExample, o: Partial<AwsChunkedOptions> = {}): AwsChunkedOptions => ({
  payload: ex.headers["x-amz-content-sha256"] as AwsChunkedOptions["payload"],
  decodedLength: 66_560,
  signing: docSigning(ex),
  ...o,
});

type ErrorClass = new (...a: never[]) => AwsChunkedError;
const rejectsWith = async (p: Promise<unknown>, type: ErrorClass, message: RegExp) =>
  assert.rejects(p, (e: unknown) => e instanceof type && message.test(e.message));

/** Reads `body` to its end or its error, counting the bytes it yielded on the way. */
async function readCounting(body: AsyncIterable<Uint8Array>, count: { bytes: number }): Promise<void> {
  for await (const piece of body) count.bytes += piece.byteLength;
}

test("the contract's client-s3 sample decodes to its 3 bytes and exposes the CRC32 trailer", async () => {
  const { data, trailers } = await decode(CONTRACT_SAMPLE, U3);
  assert.equal(data.toString(), "vm\n");
  assert.deepEqual(trailers, { "x-amz-checksum-crc32": "n7sxBA==" });
  assert.equal(await checksumOf("CRC32", data), trailers["x-amz-checksum-crc32"]);
});

test("only the three streaming payload values announce an aws-chunked body", () => {
  assert.ok(isStreamingPayload(UNSIGNED) && isStreamingPayload(SIGNED) && isStreamingPayload(SIGNED_TRAILER));
  assert.equal(isStreamingPayload("UNSIGNED-PAYLOAD"), false);
  assert.equal(isStreamingPayload("STREAMING-UNSIGNED-PAYLOAD"), false);
  assert.equal(isStreamingPayload(undefined), false);
});

for (const ex of [DOC_PAYLOAD, DOC_TRAILER]) {
  const name = ex.headers["x-amz-content-sha256"];
  test(`AWS's published ${name} example: its seed signature verifies as the request's own`, async () => {
    const headers: Record<string, string> = { ...ex.headers, authorization: docAuthorization(ex) };
    const result = await verifySigV4(
      { method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "", header: (n) => headers[n] },
      { service: "s3", secretFor: () => DOC_SECRET, now: () => Date.UTC(2013, 4, 24) },
    );
    assert.deepEqual(result, { ok: true, accessKeyId: "AKIAIOSFODNN7EXAMPLE", region: "us-east-1" });
  });

  test(`AWS's published ${name} example: every chunk signature chains from the seed, as published`, async () => {
    const { data, trailers } = await decode(docBody(ex), docOptions(ex));
    assert.ok(data.equals(DOC_DATA));
    if (ex === DOC_TRAILER) {
      assert.deepEqual(trailers, { "x-amz-checksum-crc32c": "sOO8/Q==" });
      assert.equal(await checksumOf("CRC32C", data), "sOO8/Q==");
    } else assert.deepEqual(trailers, {});
  });

  test(`AWS's published ${name} example decodes fed one byte at a time`, async () => {
    const { data } = await decode(byteAtATime(docBody(ex)), docOptions(ex));
    assert.ok(data.equals(DOC_DATA));
  });

  test(`AWS's published ${name} example is refused under another secret`, async () => {
    await rejectsWith(
      decode(docBody(ex), docOptions(ex, { signing: docSigning(ex, "not-the-secret") })),
      ChunkSignatureError,
      /^chunk 0's signature [0-9a-f]{64} does not chain from the one before it$/,
    );
  });
}

test("a chunk whose data was changed in transit fails its signature, and nothing of it is yielded", async () => {
  const tampered = Buffer.from(DOC_DATA);
  tampered[65_600] = "b".charCodeAt(0); // in the second chunk
  const body = decodeAwsChunked(pieces(docBody(DOC_PAYLOAD, tampered)), docOptions(DOC_PAYLOAD));
  const yielded = { bytes: 0 };
  await rejectsWith(readCounting(body, yielded), ChunkSignatureError, /^chunk 1's signature 0055627c/);
  assert.equal(yielded.bytes, 65_536);
});

test("chunks with the right data but swapped signatures do not chain", async () => {
  const [a, b, c] = DOC_PAYLOAD.chunks;
  const swapped = { ...DOC_PAYLOAD, chunks: [b!, a!, c!] };
  await rejectsWith(decode(docBody(swapped), docOptions(DOC_PAYLOAD)), ChunkSignatureError, /^chunk 0's/);
});

test("a changed trailer value fails the trailer signature", async () => {
  const ex = { ...DOC_TRAILER, trailer: DOC_TRAILER.trailer.replace("sOO8/Q==", "AAAAAA==") };
  await rejectsWith(
    decode(docBody(ex), docOptions(DOC_TRAILER)),
    ChunkSignatureError,
    /^the trailer signature d81f82fc/,
  );
});

test("with signing null (auth off), signed chunks are read without checking their signatures", async () => {
  const forged = { ...DOC_PAYLOAD, chunks: DOC_PAYLOAD.chunks.map(() => Z64) };
  const { data } = await decode(docBody(forged), docOptions(DOC_PAYLOAD, { signing: null }));
  assert.ok(data.equals(DOC_DATA));
  assert.throws(
    () => decodeAwsChunked(pieces(), { payload: SIGNED, decodedLength: 0 }),
    /needs the request's chunk signing/,
  );
});

test("chunks signed by the AWS SDK's own signer verify, whatever their sizes", async () => {
  // Smithy signs event-stream messages with the same string to sign as S3 chunks: with no
  // headers, their hash is the empty string's, which is what the chunk form puts there.
  const signer = new SignatureV4({
    service: "s3",
    region: "eu-west-3",
    sha256: Sha256,
    credentials: { accessKeyId: "AKIDNIMBUS", secretAccessKey: "nimbus-secret" },
  });
  const signingDate = new Date(Date.UTC(2026, 10, 24, 12, 0, 0));
  const seed = "a".repeat(64);
  const sizes = [1, 8192, 65_536, 3, 200_000, 0];
  const chunks = sizes.map((n) => randomBytes(n));
  const wire: Buffer[] = [];
  let prior = seed;
  for (const chunk of chunks) {
    const event = { headers: new Uint8Array(), payload: chunk };
    prior = await signer.sign(event, { signingDate, priorSignature: prior });
    wire.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${prior}\r\n`), chunk, CRLF);
  }
  const authorization = `AWS4-HMAC-SHA256 Credential=AKIDNIMBUS/20261124/eu-west-3/s3/aws4_request, SignedHeaders=host, Signature=${seed}`;
  const signing = chunkSigningOf(authorization, "20261124T120000Z", "nimbus-secret");
  assert.equal(signing.scope, "20261124/eu-west-3/s3/aws4_request");
  const total = sizes.reduce((a, b) => a + b, 0);
  const { data } = await decode(Buffer.concat(wire), { payload: SIGNED, decodedLength: total, signing });
  assert.ok(data.equals(Buffer.concat(chunks)));
});

test("the contract sample split in two at every byte, and fed byte by byte, decodes the same", async () => {
  const wire = Buffer.from(CONTRACT_SAMPLE);
  for (let cut = 0; cut <= wire.length; cut++) {
    const { data, trailers } = await decode(pieces(wire.subarray(0, cut), wire.subarray(cut)), U3);
    assert.equal(data.toString(), "vm\n", `cut at ${cut}`);
    assert.equal(trailers["x-amz-checksum-crc32"], "n7sxBA==", `cut at ${cut}`);
  }
  const { data } = await decode(byteAtATime(wire), U3);
  assert.equal(data.toString(), "vm\n");
});

test("a signed body with a trailer split in three at every pair of awkward places decodes the same", async () => {
  const wire = docBody(DOC_TRAILER);
  const tail = wire.length - 200; // the final chunk line, the trailers, the end
  const places = [0, 1, 5, 6, 21, 22, 86, 87, 88, 89, 65_624, 65_625, 65_626, 65_627];
  for (let i = tail; i <= wire.length; i += 3) places.push(i);
  for (const x of places) {
    const y = Math.min(wire.length, x + 1 + (x % 5));
    const { data, trailers } = await decode(
      pieces(wire.subarray(0, x), wire.subarray(x, y), wire.subarray(y)),
      docOptions(DOC_TRAILER),
    );
    assert.equal(data.length, 66_560, `split at ${x}, ${y}`);
    assert.equal(trailers["x-amz-checksum-crc32c"], "sOO8/Q==", `split at ${x}, ${y}`);
  }
});

test("a decoded length other than x-amz-decoded-content-length fails, before any excess byte is yielded", async () => {
  await rejectsWith(
    decode(CONTRACT_SAMPLE, { ...U3, decodedLength: 4 }),
    DecodedLengthError,
    /^body decodes to 3 bytes, x-amz-decoded-content-length declares 4$/,
  );
  const body = decodeAwsChunked(pieces(Buffer.from(CONTRACT_SAMPLE)), { ...U3, decodedLength: 2 });
  const yielded = { bytes: 0 };
  await rejectsWith(
    readCounting(body, yielded),
    DecodedLengthError,
    /^body decodes to more than the 2 bytes/,
  );
  assert.equal(yielded.bytes, 0);
  assert.equal(new DecodedLengthError("x").code, "IncompleteBody");
});

test("a body cut short anywhere fails as IncompleteBody, saying where", async () => {
  const wire = Buffer.from(CONTRACT_SAMPLE);
  for (let end = 0; end < wire.length; end++) {
    await assert.rejects(
      decode(wire.subarray(0, end), U3),
      (e: unknown) => e instanceof ChunkedFramingError && e.code === "IncompleteBody" && e.status === 400,
      `cut at ${end}`,
    );
  }
  await rejectsWith(
    decode("", { payload: UNSIGNED, decodedLength: 0 }),
    ChunkedFramingError,
    /^body ended after 0 chunks/,
  );
  await rejectsWith(
    decode(docBody(DOC_PAYLOAD).subarray(0, 1000), docOptions(DOC_PAYLOAD)),
    ChunkedFramingError,
    /^body ended 912 bytes into chunk 0 of 65536 bytes$/,
  );
});

const framingCases: Array<[string, string, RegExp, AwsChunkedOptions["payload"]?]> = [
  ["a size that is not hex", "zz\r\nvm\n\r\n0\r\n\r\n", /chunk 0's size line "zz" is not a hexadecimal size/],
  ["a size line ended by a bare LF", "3\nvm\n\r\n0\r\n\r\n", /ends without CRLF/],
  ["data not followed by CRLF", "3\r\nvm\nX\r\n0\r\n\r\n", /not followed by CRLF after chunk 0's data/],
  ["a chunk over 16 MiB", "1000001\r\n", /chunk 0 has 16777217 bytes, over the limit of 16777216/],
  ["a size line with no end", "0".repeat(300), /chunk 0's size line has a line longer than 256 bytes/],
  ["bytes after the end", `${CONTRACT_SAMPLE}extra`, /bytes follow the end of the aws-chunked body/],
  ["a trailer not name:value", "3\r\nvm\n\r\n0\r\nnocolon\r\n\r\n", /trailer "nocolon" is not name:value/],
  ["a trailer given twice", "0\r\na:1\r\nA:2\r\n\r\n", /trailer a is given twice/],
  ["a signed chunk without signature", "3\r\nvm\n\r\n0\r\n\r\n", /line "3" has no chunk-signature/, SIGNED],
  ["trailers where none go", `0;chunk-signature=${Z64}\r\nx:1\r\n\r\n`, /has no trailers, got "x:1"/, SIGNED],
  ["unsigned signed trailers", `0;chunk-signature=${Z64}\r\n\r\n`, /without x-amz-trailer-/, SIGNED_TRAILER],
];
for (const [what, wire, message, payload = UNSIGNED] of framingCases) {
  test(`malformed framing is refused as InvalidRequest: ${what}`, async () => {
    await assert.rejects(
      decode(wire, { payload, decodedLength: undefined, signing: null }),
      (e: unknown) =>
        e instanceof ChunkedFramingError && e.code === "InvalidRequest" && message.test(e.message),
    );
  });
}

test("unsigned chunk extensions are ignored, and a body with no trailers has an empty trailer map", async () => {
  const { data, trailers } = await decode("3;ext=1\r\nvm\n\r\n0\r\n\r\n", U3);
  assert.equal(data.toString(), "vm\n");
  assert.deepEqual(trailers, {});
});

test("trailers are not known before the end, and a body is read only once", async () => {
  const body = decodeAwsChunked(pieces(Buffer.from(CONTRACT_SAMPLE)), U3);
  assert.throws(() => body.trailers, /only once the whole body has been read/);
  for await (const _ of body);
  assert.equal(body.trailers.get("x-amz-checksum-crc32"), "n7sxBA==");
  assert.throws(() => body[Symbol.asyncIterator](), /can be read only once/);
});

test("a reader that stops early releases the source", async () => {
  let released = false;
  async function* source() {
    try {
      yield Buffer.from("10\r\n0123456789abcdef\r\n");
      yield Buffer.from("0\r\n\r\n");
    } finally {
      released = true;
    }
  }
  for await (const _ of decodeAwsChunked(source(), { payload: UNSIGNED, decodedLength: 16 })) break;
  assert.equal(released, true);
});

test("what @aws-sdk/client-s3 sends for a stream body decodes to the bytes given, with a CRC32 trailer that matches", async () => {
  const seen: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200, { ETag: '"0"' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new S3Client({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: "AKIDNIMBUS", secretAccessKey: "nimbus-secret" },
    maxAttempts: 1,
  });
  const sent = [[Buffer.from("vm\n")], [randomBytes(70_000), randomBytes(130_000)]];
  try {
    for (const parts of sent) {
      const ContentLength = parts.reduce((n, p) => n + p.length, 0);
      await client.send(
        new PutObjectCommand({ Bucket: "b", Key: "k", Body: Readable.from(parts), ContentLength }),
      );
    }
  } finally {
    client.destroy();
    server.close();
  }
  assert.equal(seen[0]?.body.toString(), CONTRACT_SAMPLE);
  for (const [i, { headers: h, body }] of seen.entries()) {
    assert.equal(h["content-encoding"], "aws-chunked");
    assert.equal(h["x-amz-trailer"], "x-amz-checksum-crc32");
    const payload = String(h["x-amz-content-sha256"]);
    assert.ok(isStreamingPayload(payload), payload);
    const decodedLength = Number(h["x-amz-decoded-content-length"]);
    const { data, trailers } = await decode(body, { payload, decodedLength });
    const expected = Buffer.concat(sent[i]!);
    assert.ok(data.equals(expected));
    assert.equal(trailers["x-amz-checksum-crc32"], await checksumOf("CRC32", expected));
  }
});
