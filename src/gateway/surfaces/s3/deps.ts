/** What the S3 routes are given, and the shape each operation's handler has. */
import { createHash } from "node:crypto";
import type { Multipart } from "../../../services/storage/multipart.js";
import type { StorageService } from "../../../services/storage/storage.js";
import type { AccessDeps } from "./access.js";
import type { S3Call } from "./request.js";
import { el } from "./xml.js";

/** With what deciding a caller's access needs (`access.ts`): users' tokens, the auth mode, the log. */
export interface S3Deps extends AccessDeps {
  readonly storage: StorageService;
  readonly multipart: Multipart;
  readonly arn: { readonly region: string; readonly accountId: string };
  /** The secret of an access key id (the platform's), for the signatures of signed aws-chunked bodies. */
  readonly s3Secret?: (accessKeyId: string) => string | undefined;
}

export type Handler = (call: S3Call, d: S3Deps) => Promise<Response>;

/** `<Owner>`: the platform's account, with a canonical id derived from it (S3's are 64 hex digits). */
export function ownerXml(d: S3Deps, element = "Owner"): string {
  const id = createHash("sha256").update(`nimbus:${d.arn.accountId}`).digest("hex");
  return `<${element}>${el("ID", id)}${el("DisplayName", "nimbus")}</${element}>`;
}

/** S3's timestamps in XML: ISO 8601 with milliseconds. */
export const isoDate = (ms: number) => new Date(ms).toISOString();
