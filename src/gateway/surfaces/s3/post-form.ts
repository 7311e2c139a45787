/**
 * The `multipart/form-data` body of a browser form upload (`post-object.ts`), read as it streams
 * with `@fastify/busboy`: the fields before the part named `file` are collected (at most
 * MAX_FORM_FIELDS_BYTES of names and values together, as S3 limits them), and the file part is
 * handed over as a stream the moment it begins, to be read by whoever stores it, never held
 * whole. Fields after the file are ignored, as S3 ignores them.
 */
import type { Readable } from "node:stream";
import { Busboy, type BusboyFileStream, type BusboyInstance } from "@fastify/busboy";
import { preconditionFailed, S3Error } from "../../../services/storage/errors.js";
import type { FormField } from "./post-policy.js";

/** S3's limit on what precedes the file: names and values of the fields, in bytes. */
export const MAX_FORM_FIELDS_BYTES = 20 * 1024;
const FILE_FIELD = "file";

export interface PostForm {
  /** The fields before the file, by lower-case name. */
  readonly fields: ReadonlyMap<string, FormField>;
  /** The file part: its name as the browser sent it (`filename=`, without a path), and its bytes. */
  readonly file: { readonly filename: string; readonly body: Readable };
  /** Stops reading (the answer goes before the file was read whole); the server drains the rest. */
  abandon(): void;
}

/** S3's error for a body that is not the form it says it is. */
export const malformedPost = (why: string) =>
  new S3Error(
    "MalformedPOSTRequest",
    400,
    `The body of your POST request is not well-formed multipart/form-data: ${why}.`,
  );

/**
 * Reads `source` up to the file part. Refuses a request that is not `multipart/form-data`
 * (412 PreconditionFailed, as S3), a form whose fields before the file are too large, give a
 * field twice, or that has no file part.
 */
export function readPostForm(source: Readable, contentType: string | null): Promise<PostForm> {
  if (contentType === null || !/^multipart\/form-data\s*(;|$)/i.test(contentType.trim())) {
    const err = preconditionFailed("Bucket POST must be of the enclosure-type multipart/form-data");
    return Promise.reject(err);
  }
  let bb: BusboyInstance;
  try {
    bb = Busboy({
      headers: { "content-type": contentType },
      // Only the part named `file` is the file (a part with a filename otherwise is a field).
      isPartAFile: (name) => name?.toLowerCase() === FILE_FIELD,
      limits: { fieldSize: MAX_FORM_FIELDS_BYTES + 1, files: 1 },
    });
  } catch (err) {
    return Promise.reject(malformedPost(err instanceof Error ? err.message : String(err)));
  }
  return new Promise((resolve, reject) => {
    const fields = new Map<string, FormField>();
    let bytes = 0;
    let state: "fields" | "file" | "after" = "fields";
    let file: BusboyFileStream | undefined;
    const abandon = () => {
      source.unpipe(bb);
      bb.removeAllListeners();
      bb.on("error", () => undefined);
      bb.destroy();
      if (file !== undefined && !file.readableEnded) file.destroy();
    };
    // Before the file, the form is refused; while it streams, its reader gets the error.
    const fail = (err: S3Error) => {
      if (state === "fields") {
        state = "after";
        abandon();
        reject(err);
      } else if (state === "file") file?.destroy(err);
    };
    bb.on("field", (name, value, _nameTruncated, valueTruncated) => {
      if (state !== "fields") return;
      bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (valueTruncated || bytes > MAX_FORM_FIELDS_BYTES)
        return fail(
          new S3Error(
            "MaxPostPreDataLengthExceeded",
            400,
            `Your POST request fields preceding the upload file were too large: they may have at most ${MAX_FORM_FIELDS_BYTES} bytes of names and values.`,
          ),
        );
      const lower = name.toLowerCase();
      const prior = fields.get(lower);
      if (prior !== undefined)
        return fail(
          new S3Error(
            "InvalidArgument",
            400,
            `The form gives the field "${name}" twice; each field may appear once.`,
            {
              ArgumentName: name,
              ArgumentValue: value,
            },
          ),
        );
      fields.set(lower, { name, value });
    });
    bb.on("file", (_name, stream, filename) => {
      if (state !== "fields") return stream.resume();
      state = "file";
      file = stream;
      // busboy emits a broken part's error without destroying the stream: destroyed here, it
      // reaches whoever reads it then or later, and an error no one reads yet crashes nothing.
      stream.on("error", (err: unknown) => {
        if (!stream.destroyed)
          stream.destroy(
            err instanceof S3Error ? err : malformedPost(err instanceof Error ? err.message : String(err)),
          );
      });
      stream.once("end", () => {
        state = "after";
      });
      resolve({ fields, file: { filename: filename ?? "", body: stream }, abandon });
    });
    bb.on("finish", () =>
      fail(
        new S3Error("InvalidArgument", 400, "POST requires exactly one file upload per request.", {
          ArgumentName: FILE_FIELD,
          ArgumentValue: "0",
        }),
      ),
    );
    bb.on("error", (err: unknown) => fail(malformedPost(err instanceof Error ? err.message : String(err))));
    source.on("error", () => undefined);
    source.once("close", () => {
      if (!source.readableEnded)
        fail(new S3Error("IncompleteBody", 400, "The request body ended early: the connection closed."));
    });
    source.pipe(bb);
  });
}
