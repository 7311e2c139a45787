/**
 * SigV4 authentication for the Lambda API and Nimbus's own API; for scrapers that cannot sign
 * (Prometheus), HTTP Basic with the same access key id and secret (`checkSignedOrBasic`).
 */
import { timingSafeEqual } from "node:crypto";
import type { NimbusError } from "../../shared/errors.js";
import { NimbusError as Err } from "../../shared/errors.js";
import { type SigV4Result, verifySigV4 } from "./sigv4.js";

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type AuthMode = "verify" | "off";

export interface Authenticator {
  /** Resolves when the request is signed with a known key; throws a NimbusError otherwise. */
  check(req: Request, rawUrl: string, bodySha256Hex: string): Promise<void>;
  /** As `check`, or `Authorization: Basic` with the access key id and secret access key. */
  checkSignedOrBasic(req: Request, rawUrl: string, bodySha256Hex: string): Promise<void>;
}

export function createAuthenticator(mode: AuthMode, creds: Credentials, now: () => number): Authenticator {
  if (mode === "off") return { check: async () => {}, checkSignedOrBasic: async () => {} };
  const secretFor = (id: string) => (id === creds.accessKeyId ? creds.secretAccessKey : undefined);
  const expectedBasic = Buffer.from(`${creds.accessKeyId}:${creds.secretAccessKey}`);
  const auth: Authenticator = {
    async checkSignedOrBasic(req, rawUrl, bodySha256Hex) {
      const header = req.headers.get("authorization") ?? "";
      if (!/^basic /i.test(header)) return auth.check(req, rawUrl, bodySha256Hex);
      const given = Buffer.from(header.slice(6).trim(), "base64");
      if (given.length !== expectedBasic.length || !timingSafeEqual(given, expectedBasic))
        throw new Err(
          "UnrecognizedClient",
          "The credentials in the Authorization header are invalid: expected Basic with the platform's access key id as user name and its secret access key as password",
        );
    },
    async check(req, rawUrl, bodySha256Hex) {
      const afterHost = rawUrl.replace(/^[a-z]+:\/\/[^/]+/i, "");
      const q = afterHost.indexOf("?");
      const result = await verifySigV4(
        {
          method: req.method,
          rawPath: q === -1 ? afterHost : afterHost.slice(0, q),
          rawQuery: q === -1 ? "" : afterHost.slice(q + 1),
          header: (name) => req.headers.get(name) ?? undefined,
          bodySha256Hex,
        },
        { service: "lambda", secretFor, now },
      );
      if (!result.ok) throw authError(result);
    },
  };
  return auth;
}

function authError(r: Exclude<SigV4Result, { ok: true }>): NimbusError {
  switch (r.reason) {
    case "missing":
      return new Err(
        "MissingAuthenticationToken",
        "Missing Authentication Token: sign requests with AWS Signature Version 4 and the platform's access key",
      );
    case "malformed":
      return new Err("IncompleteSignature", `The request signature is malformed: ${r.message}`);
    case "unknown-key":
      return new Err(
        "UnrecognizedClient",
        "The security token included in the request is invalid: unknown access key id",
      );
    case "expired":
    case "skewed":
      return new Err("RequestExpired", `Signature expired: ${r.message}`);
    case "mismatch":
    case "body-hash-mismatch":
      return new Err(
        "InvalidSignature",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      );
  }
}
