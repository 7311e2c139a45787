/**
 * Zips written byte by byte, for the hostile packages yazl refuses to write: names that climb
 * out of the package, absolute names, symlinks, and headers that lie about sizes.
 */
import zlib from "node:zlib";

export interface RawEntry {
  readonly name: string;
  readonly data?: string | Buffer;
  /** 0: stored, 8: deflated. */
  readonly method?: 0 | 8;
  /** The uncompressed size the headers declare; the data's real size unless given. */
  readonly declaredSize?: number;
  /** Unix type and mode bits; 0o120777 makes a symlink whose data is its target. */
  readonly unixMode?: number;
}

/** Little-endian fields: "I" 4 bytes, "H" 2 bytes. */
function pack(format: string, ...values: number[]): Buffer {
  const buf = Buffer.alloc([...format].reduce((n, c) => n + (c === "I" ? 4 : 2), 0));
  let at = 0;
  for (const [i, c] of [...format].entries()) {
    at = c === "I" ? buf.writeUInt32LE(values[i]!, at) : buf.writeUInt16LE(values[i]!, at);
  }
  return buf;
}

/** Local headers, central directory and end record, made by a Unix zip 2.0. */
export function rawZip(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const data = Buffer.from(e.data ?? "");
    const method = e.method ?? 0;
    const stored = method === 8 ? zlib.deflateRawSync(data) : data;
    const sizes = [zlib.crc32(data), stored.length, e.declaredSize ?? data.length, name.length, 0];
    const flags = 0x800; // UTF-8 names
    // Version 2.0, time 00:00, date 1980-01-01 (0x21).
    parts.push(pack("IHHHHHIIIHH", 0x04034b50, 20, flags, method, 0, 0x21, ...sizes), name, stored);
    const external = ((e.unixMode ?? 0o100644) << 16) >>> 0;
    const head = [0x02014b50, 0x0314, 20, flags, method, 0, 0x21, ...sizes, 0, 0, 0, external, offset];
    centrals.push(pack("IHHHHHHIIIHHHHHII", ...head), name);
    offset += 30 + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = pack("IHHHHIIH", 0x06054b50, 0, 0, entries.length, entries.length, directory.length, offset, 0);
  return Buffer.concat([...parts, directory, end]);
}
