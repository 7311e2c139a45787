/** S3's rules for bucket names and object keys, each refusal saying what is expected. */
import { S3Error } from "./errors.js";

export const MAX_KEY_BYTES = 1024;

/** Undefined when `name` is a bucket name S3 accepts (general purpose buckets), else why not. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `is ${name.length} characters; a bucket name has 3 to 63`;
  if (!/^[a-z0-9.-]+$/.test(name)) return "may hold only lower-case letters, digits, '.' and '-'";
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))
    return "must begin and end with a letter or a digit";
  if (name.includes("..")) return "must not hold two adjacent periods";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return "must not be formatted as an IP address";
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return "must not begin with xn--, sthree- or amzn-s3-demo-";
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name))
    return "must not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3";
  return undefined;
}

export function requireBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem !== undefined)
    throw new S3Error("InvalidBucketName", 400, `The specified bucket is not valid: "${name}" ${problem}.`, {
      BucketName: name,
    });
}

/** A key as decoded from the request: 1 to 1,024 bytes of UTF-8. */
export function requireKey(key: string): void {
  if (key.length === 0) throw new S3Error("InvalidArgument", 400, "An object key must not be empty.");
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES)
    throw new S3Error(
      "KeyTooLongError",
      400,
      `Your key is ${bytes} bytes; a key is at most ${MAX_KEY_BYTES} bytes of UTF-8.`,
      {
        Size: String(bytes),
        MaxSizeAllowed: String(MAX_KEY_BYTES),
      },
    );
  if (/[\uD800-\uDFFF]/.test(key.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "")))
    throw new S3Error("InvalidArgument", 400, "An object key must be valid UTF-8.");
}
