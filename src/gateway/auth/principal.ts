/**
 * Who is calling: every surface names one AuthPolicy, and the gateway turns each request into
 * a Principal by it before any route runs. The platform's key (SigV4, or HTTP Basic where a
 * caller cannot sign) is checked here; a presigned link, a user's token or an API key is
 * checked by the verifier its policy carries, which the module owning links, users or keys
 * provides.
 */
import { timingSafeEqual } from "node:crypto";
import { NimbusError } from "../../shared/errors.js";
import { type SigV4Result, verifySigV4 } from "./sigv4.js";

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** `off` serves every request as if the platform's key had signed it (a local playground). */
export type AuthMode = "verify" | "off";

/** The caller of one request, as its surface's policy established it. */
export type Principal =
  /** The platform's operator: signed with the platform's key (or anyone, with auth off). */
  | {
      readonly kind: "platform";
      readonly accessKeyId: string;
      readonly via: "sigv4" | "basic" | "auth-off";
    }
  /** A user signed in to an application, by a token its auth service issued. */
  | { readonly kind: "user"; readonly userId: string; readonly claims: Readonly<Record<string, unknown>> }
  /** A program holding one of an application's API keys. */
  | { readonly kind: "api-key"; readonly keyId: string }
  /** Whoever holds a presigned link: it grants that one resource. */
  | { readonly kind: "link"; readonly resource: string }
  | { readonly kind: "anonymous" };

/** How a surface's callers prove who they are. */
export type AuthPolicy =
  | { readonly kind: "anonymous" }
  /**
   * SigV4 with the platform's key, for the AWS service name clients sign with ("lambda",
   * "s3"); `basic` also takes the key as HTTP Basic (for scrapers that cannot sign).
   */
  | { readonly kind: "platform-key"; readonly service: string; readonly basic?: boolean }
  /** A presigned link: `verify` throws unless the URL is one, and returns what it grants. */
  | { readonly kind: "link"; readonly verify: (url: URL) => string }
  /** `Authorization: Bearer <token>`, verified by the issuer's module. */
  | {
      readonly kind: "jwt";
      readonly verify: (token: string) => Promise<Extract<Principal, { kind: "user" }>>;
    }
  /** A key in a header, looked up by the module that issues keys; undefined when unknown. */
  | {
      readonly kind: "api-key";
      readonly header: string;
      readonly lookup: (key: string) => Promise<Extract<Principal, { kind: "api-key" }> | undefined>;
    };

/** A request as authentication sees it. */
export interface AuthRequest {
  readonly raw: Request;
  /** The URL as received (path and query still percent-encoded), which signatures cover. */
  readonly url: string;
  /**
   * Hex sha256 of the body when the surface buffers it: a signature must then match it.
   * Undefined when the surface streams its body: the signed `x-amz-content-sha256` (a hash
   * or `UNSIGNED-PAYLOAD`) is taken as declared, and the route checks what it reads.
   */
  readonly bodySha256?: string;
}

export interface Authenticator {
  /** The request's Principal under `policy`; throws a 4xx NimbusError when it has none. */
  authenticate(policy: AuthPolicy, req: AuthRequest): Promise<Principal>;
}

export function createAuthenticator(mode: AuthMode, creds: Credentials, now: () => number): Authenticator {
  const secretFor = (id: string) => (id === creds.accessKeyId ? creds.secretAccessKey : undefined);
  const expectedBasic = Buffer.from(`${creds.accessKeyId}:${creds.secretAccessKey}`);

  async function platformKey(
    policy: Extract<AuthPolicy, { kind: "platform-key" }>,
    req: AuthRequest,
  ): Promise<Principal> {
    if (mode === "off") return { kind: "platform", accessKeyId: creds.accessKeyId, via: "auth-off" };
    const header = req.raw.headers.get("authorization") ?? "";
    if (policy.basic && /^basic /i.test(header)) {
      const given = Buffer.from(header.slice(6).trim(), "base64");
      if (given.length !== expectedBasic.length || !timingSafeEqual(given, expectedBasic))
        throw new NimbusError(
          "UnrecognizedClient",
          "The credentials in the Authorization header are invalid: expected Basic with the platform's access key id as user name and its secret access key as password",
        );
      return { kind: "platform", accessKeyId: creds.accessKeyId, via: "basic" };
    }
    const afterHost = req.url.replace(/^[a-z]+:\/\/[^/]+/i, "");
    const q = afterHost.indexOf("?");
    const result = await verifySigV4(
      {
        method: req.raw.method,
        rawPath: q === -1 ? afterHost : afterHost.slice(0, q),
        rawQuery: q === -1 ? "" : afterHost.slice(q + 1),
        header: (name) => req.raw.headers.get(name) ?? undefined,
        bodySha256Hex: req.bodySha256,
      },
      { service: policy.service, secretFor, now },
    );
    if (!result.ok) throw sigV4Error(result);
    return { kind: "platform", accessKeyId: result.accessKeyId, via: "sigv4" };
  }

  return {
    async authenticate(policy, req) {
      switch (policy.kind) {
        case "anonymous":
          return { kind: "anonymous" };
        case "platform-key":
          return platformKey(policy, req);
        // A link is its own credential, whatever the mode: it was made to be handed on.
        case "link":
          return { kind: "link", resource: policy.verify(new URL(req.url)) };
        case "jwt": {
          const m = /^bearer\s+(\S+)$/i.exec(req.raw.headers.get("authorization") ?? "");
          if (!m)
            throw new NimbusError(
              "MissingAuthenticationToken",
              "Missing Authentication Token: send the user's token as Authorization: Bearer <token>",
            );
          return policy.verify(m[1]!);
        }
        case "api-key": {
          const key = req.raw.headers.get(policy.header);
          if (!key)
            throw new NimbusError(
              "MissingAuthenticationToken",
              `Missing Authentication Token: send an API key in the ${policy.header} header`,
            );
          const found = await policy.lookup(key);
          if (!found)
            throw new NimbusError(
              "UnrecognizedClient",
              `The API key in the ${policy.header} header is not known (revoked, or never issued)`,
            );
          return found;
        }
      }
    },
  };
}

function sigV4Error(r: Exclude<SigV4Result, { ok: true }>): NimbusError {
  switch (r.reason) {
    case "missing":
      return new NimbusError(
        "MissingAuthenticationToken",
        "Missing Authentication Token: sign requests with AWS Signature Version 4 and the platform's access key",
      );
    case "malformed":
      return new NimbusError("IncompleteSignature", `The request signature is malformed: ${r.message}`);
    case "unknown-key":
      return new NimbusError(
        "UnrecognizedClient",
        "The security token included in the request is invalid: unknown access key id",
      );
    case "expired":
    case "skewed":
      return new NimbusError("RequestExpired", `Signature expired: ${r.message}`);
    case "mismatch":
    case "body-hash-mismatch":
      return new NimbusError(
        "InvalidSignature",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      );
  }
}
