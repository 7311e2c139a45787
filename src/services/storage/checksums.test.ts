import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import {
  algorithmOfHeader,
  CHECKSUM_ALGORITHMS,
  CHECKSUM_HEADERS,
  COMPOSITE_ALGORITHMS,
  checksumOf,
  compositeChecksum,
  createHasher,
  Digester,
  etagOf,
  InvalidChecksumAlgorithm,
  InvalidChecksumValue,
  isWellFormedChecksum,
  multipartEtag,
  parseChecksumAlgorithm,
} from "./checksums.js";

const text = (s: string) => Buffer.from(s);
const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

/** Bit-at-a-time reflected CRCs: a second implementation, sharing no code or tables with the ones tested. */
function referenceCrc(bytes: Uint8Array, width: 32 | 64, poly: bigint): string {
  const mask = (1n << BigInt(width)) - 1n;
  let crc = mask;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return b64(((crc ^ mask) & mask).toString(16).padStart(width / 4, "0"));
}
const referenceCrc32c = (b: Uint8Array) => referenceCrc(b, 32, 0x82f63b78n);
const referenceCrc64Nvme = (b: Uint8Array) => referenceCrc(b, 64, 0x9a6c9329ac4bc9b5n);

test("CRC32 of 'hello world' is DUoRhQ==, as S3 and the SDK compute it", async () => {
  assert.equal(await checksumOf("CRC32", text("hello world")), "DUoRhQ==");
});

test("the contract's aws-chunked sample body 'vm\\n' has the CRC32 its trailer carries", async () => {
  assert.equal(await checksumOf("CRC32", text("vm\n")), "n7sxBA==");
});

test("each algorithm gives the catalogued check value for '123456789'", async () => {
  // CRC RevEng catalogue check values: CRC-32/ISO-HDLC cbf43926, CRC-32/ISCSI e3069283, CRC-64/NVME ae8b14860a799888.
  const check = text("123456789");
  assert.equal(await checksumOf("CRC32", check), b64("cbf43926"));
  assert.equal(await checksumOf("CRC32C", check), b64("e3069283"));
  assert.equal(await checksumOf("CRC64NVME", check), b64("ae8b14860a799888"));
});

test("SHA1 and SHA256 give the FIPS 180 / RFC 6234 digests of 'abc' and of the empty string", async () => {
  assert.equal(await checksumOf("SHA1", text("abc")), b64("a9993e364706816aba3e25717850c26c9cd0d89d"));
  assert.equal(
    await checksumOf("SHA256", text("abc")),
    b64("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
  );
  assert.equal(await checksumOf("SHA1", new Uint8Array()), b64("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  assert.equal(
    await checksumOf("SHA256", new Uint8Array()),
    b64("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
  );
});

test("the CRCs of an empty body are the zero digests S3 shows for empty objects", async () => {
  assert.equal(await checksumOf("CRC32", new Uint8Array()), "AAAAAA==");
  assert.equal(await checksumOf("CRC32C", new Uint8Array()), "AAAAAA==");
  assert.equal(await checksumOf("CRC64NVME", new Uint8Array()), "AAAAAAAAAAA=");
});

test("CRC32C and CRC64NVME agree with a bit-at-a-time reference over random data", async () => {
  for (const size of [1, 7, 8, 9, 100, 4096, 65_537]) {
    const data = randomBytes(size);
    assert.equal(await checksumOf("CRC32C", data), referenceCrc32c(data), `CRC32C of ${size} bytes`);
    assert.equal(await checksumOf("CRC64NVME", data), referenceCrc64Nvme(data), `CRC64NVME of ${size} bytes`);
  }
});

test("feeding bytes in pieces gives the same digest as feeding them whole, for every algorithm", async () => {
  const data = randomBytes(10_000);
  const cuts = [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 4095, 4096, 9999, 10_000];
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const whole = await checksumOf(algorithm, data);
    const hasher = createHasher(algorithm);
    for (let i = 0; i + 1 < cuts.length; i++) hasher.update(data.subarray(cuts[i], cuts[i + 1]));
    assert.equal(await hasher.digest(), whole, algorithm);
    const byteAtATime = createHasher(algorithm);
    for (const byte of data.subarray(0, 300)) byteAtATime.update(Uint8Array.of(byte));
    assert.equal(await byteAtATime.digest(), await checksumOf(algorithm, data.subarray(0, 300)), algorithm);
  }
});

test("a Digester computes size, MD5 hex and each checksum asked for over one stream", async () => {
  const digester = new Digester(["CRC32", "SHA256", "CRC32"]);
  digester.update(text("hello "));
  digester.update(text("world"));
  assert.equal(digester.size, 11);
  assert.deepEqual(await digester.digest(), {
    size: 11,
    md5: "5eb63bbbe01eeed093cb22bb8f5acdc3",
    checksums: { CRC32: "DUoRhQ==", SHA256: await checksumOf("SHA256", text("hello world")) },
  });
});

test("a Digester with no algorithms still gives MD5 and size (the ETag), and nothing else", async () => {
  const digester = new Digester([]);
  assert.deepEqual(await digester.digest(), {
    size: 0,
    md5: "d41d8cd98f00b204e9800998ecf8427e",
    checksums: {},
  });
});

test("algorithm names parse whatever their case, and an unknown one names the header and the choices", () => {
  assert.equal(parseChecksumAlgorithm("CRC32"), "CRC32");
  assert.equal(parseChecksumAlgorithm("crc64nvme"), "CRC64NVME");
  assert.equal(parseChecksumAlgorithm(" Sha256 "), "SHA256");
  assert.throws(
    () => parseChecksumAlgorithm("MD5", "x-amz-checksum-algorithm"),
    (e: unknown) =>
      e instanceof InvalidChecksumAlgorithm &&
      e.message ===
        'x-amz-checksum-algorithm "MD5" is not a checksum algorithm: expected one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256',
  );
  assert.throws(() => parseChecksumAlgorithm(""), InvalidChecksumAlgorithm);
});

test("each algorithm has its x-amz-checksum-* header, and a header name maps back to it", () => {
  assert.equal(CHECKSUM_HEADERS.CRC32, "x-amz-checksum-crc32");
  assert.equal(CHECKSUM_HEADERS.CRC64NVME, "x-amz-checksum-crc64nvme");
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    assert.equal(algorithmOfHeader(CHECKSUM_HEADERS[algorithm]), algorithm);
    assert.equal(algorithmOfHeader(CHECKSUM_HEADERS[algorithm].toUpperCase()), algorithm);
  }
  assert.equal(algorithmOfHeader("x-amz-checksum-md5"), undefined);
  assert.equal(algorithmOfHeader("x-amz-checksum-type"), undefined);
});

test("a checksum value is well formed only as base64 of exactly the algorithm's digest size", async () => {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    assert.ok(isWellFormedChecksum(algorithm, await checksumOf(algorithm, text("x"))), algorithm);
  }
  assert.equal(isWellFormedChecksum("CRC32", "DUoRhQ"), false);
  assert.equal(isWellFormedChecksum("CRC32", "DUoRhQ=="), true);
  assert.equal(isWellFormedChecksum("CRC32", "DUoR!Q=="), false);
  assert.equal(isWellFormedChecksum("CRC32", "AAAAAAAAAAA="), false);
  assert.equal(isWellFormedChecksum("SHA256", "DUoRhQ=="), false);
});

test("a single-part ETag is the MD5 hex, quoted", () => {
  assert.equal(etagOf("5eb63bbbe01eeed093cb22bb8f5acdc3"), '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
});

test("a multipart ETag is the MD5 of the parts' binary MD5s, then -N (checked with Python's hashlib)", () => {
  const parts = ["594f803b380a41396ed63dca39503542", "08f8e0260c64418510cefb2b06eee5cd"]; // MD5s of "aaaaa", "bbb"
  assert.equal(multipartEtag(parts), '"72d27afac8e2fbd3662861b9d607a02c-2"');
  assert.equal(multipartEtag(parts.map((p) => `"${p}"`)), '"72d27afac8e2fbd3662861b9d607a02c-2"');
  assert.throws(() => multipartEtag([]), InvalidChecksumValue);
  assert.throws(
    () => multipartEtag(['"72d27afac8e2fbd3662861b9d607a02c-2"']),
    /part ETag "72d27afac8e2fbd3662861b9d607a02c-2" is not an MD5 in hex/,
  );
});

test("a COMPOSITE checksum is the algorithm over the parts' binary checksums, then -N (checked with Python)", () => {
  assert.equal(compositeChecksum("CRC32", ["7qyTuQ==", "QGXPDQ=="]), "Eo25Yg==-2");
  assert.equal(
    compositeChecksum("SHA256", [
      "7ZaOhA0Q0tMTqHC8ExpOLDEdetCb3zKzQYFHIh9RpuI=",
      "PnRLncOTibrwxaBmBYm4QC89u0m4mz518sk1WFKjxnc=",
    ]),
    "klO+rIGEBmpS+FYbl0V177NZOk8sR9bZjF+0fMGntig=-2",
  );
});

test("a COMPOSITE CRC32C matches the reference CRC over the concatenated part digests", async () => {
  const parts = [randomBytes(100), randomBytes(5000), randomBytes(1)];
  const partValues = await Promise.all(parts.map((p) => checksumOf("CRC32C", p)));
  const joined = Buffer.concat(partValues.map((v) => Buffer.from(v, "base64")));
  assert.equal(compositeChecksum("CRC32C", partValues), `${referenceCrc32c(joined)}-3`);
});

test("there is no COMPOSITE CRC64NVME, as in S3, where it is FULL_OBJECT only", async () => {
  const part = await checksumOf("CRC64NVME", text("x"));
  assert.throws(() => compositeChecksum("CRC64NVME", [part]), /CRC64NVME has no COMPOSITE form/);
  assert.deepEqual(COMPOSITE_ALGORITHMS, ["CRC32", "CRC32C", "SHA1", "SHA256"]);
});

test("a COMPOSITE checksum refuses a part value of the wrong size, naming the part", () => {
  assert.throws(
    () => compositeChecksum("CRC32", ["7qyTuQ==", "AAAAAAAAAAA="]),
    (e: unknown) =>
      e instanceof InvalidChecksumValue &&
      e.message === `part 2's CRC32 checksum "AAAAAAAAAAA=" is not base64 of 4 bytes`,
  );
  assert.throws(() => compositeChecksum("SHA1", []), InvalidChecksumValue);
});
