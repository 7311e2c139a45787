/**
 * Storage's errors, by the codes S3 answers with (`<Error><Code>`), each with its HTTP status.
 * The S3 surface renders them as S3's XML; `fields` become extra elements (`<Key>`, `<BucketName>`).
 */
export class S3Error extends Error {
  override readonly name = "S3Error";
  readonly code: string;
  readonly status: number;
  readonly fields: Readonly<Record<string, string>>;

  constructor(code: string, status: number, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

export const noSuchBucket = (bucket: string) =>
  new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: bucket });
export const noSuchKey = (key: string) =>
  new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: key });
export const noSuchVersion = (key: string, versionId: string) =>
  new S3Error("NoSuchVersion", 404, "The specified version does not exist.", {
    Key: key,
    VersionId: versionId,
  });
export const noSuchUpload = (uploadId: string) =>
  new S3Error(
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    { UploadId: uploadId },
  );
export const invalidArgument = (message: string, name?: string, value?: string) =>
  new S3Error(
    "InvalidArgument",
    400,
    message,
    name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? "" },
  );
export const malformedXml = (why: string) =>
  new S3Error(
    "MalformedXML",
    400,
    `The XML you provided was not well-formed or did not validate against our published schema: ${why}`,
  );
export const invalidRange = (size: number) =>
  new S3Error("InvalidRange", 416, "The requested range is not satisfiable", {
    ActualObjectSize: String(size),
  });
export const preconditionFailed = (condition: string) =>
  new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", {
    Condition: condition,
  });
export const entityTooLarge = (size: number, max: number) =>
  new S3Error(
    "EntityTooLarge",
    400,
    `Your proposed upload is ${size} bytes; the maximum allowed object size is ${max} bytes.`,
    {
      ProposedSize: String(size),
      MaxSizeAllowed: String(max),
    },
  );
export const badDigest = (what: string) =>
  new S3Error("BadDigest", 400, `The ${what} you specified did not match the calculated checksum.`);
export const accessDenied = (message = "Access Denied") => new S3Error("AccessDenied", 403, message);
export const notImplemented = (what: string) =>
  new S3Error(
    "NotImplemented",
    501,
    `A header or query you provided implies functionality that is not implemented: ${what}`,
  );
