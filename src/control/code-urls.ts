/**
 * Presigned links to function packages, GetFunction's `Code.Location`: whoever holds one may
 * download the zip, without signing the request, until it expires 10 minutes later (as
 * Lambda's S3 links do). A link carries its expiry and an HMAC of the package id and expiry
 * under a key derived from the platform's secret, so it cannot be stretched or pointed at
 * another package.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";

export const CODE_URL_TTL_MS = 10 * 60 * 1000;
export const PACKAGE_PATH = "/nimbus/v1/packages";

const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
const FRESH_LINK = "get a fresh link from GetFunction's Code.Location";

export class CodeUrls {
  readonly #key: Buffer;
  readonly #clock: Pick<Clock, "now">;

  constructor(secretAccessKey: string, clock: Pick<Clock, "now">) {
    // A key of its own: a link's signature can never stand in for a SigV4 one, nor the reverse.
    this.#key = createHmac("sha256", secretAccessKey).update("nimbus package link v1").digest();
    this.#clock = clock;
  }

  /** A link to the package on `origin`, the scheme, host and port the caller reached us on. */
  sign(origin: string, packageId: string): string {
    const expires = Math.floor((this.#clock.now() + CODE_URL_TTL_MS) / 1000);
    const signature = this.#mac(packageId, String(expires)).toString("hex");
    return `${origin}${PACKAGE_PATH}/${packageId}?Expires=${expires}&Signature=${signature}`;
  }

  /** Throws a 403 NimbusError unless the link was signed here for this package and is not expired. */
  verify(packageId: string, expires: string | undefined, signature: string | undefined): void {
    if (expires === undefined || signature === undefined) {
      throw new NimbusError(
        "MissingAuthenticationToken",
        `the link to package ${packageId} needs its Expires and Signature query parameters: ${FRESH_LINK}`,
      );
    }
    const given = SIGNATURE_PATTERN.test(signature) ? Buffer.from(signature, "hex") : undefined;
    const expected = this.#mac(packageId, expires);
    // Compared in constant time, so response times tell nothing about the right signature.
    if (!given || !timingSafeEqual(given, expected)) {
      throw new NimbusError(
        "InvalidSignature",
        `the link to package ${packageId} is not valid: its signature does not match its package and expiry (altered, or signed with another key); ${FRESH_LINK}`,
      );
    }
    const expiresMs = Number(expires) * 1000;
    if (this.#clock.now() >= expiresMs) {
      throw new NimbusError(
        "RequestExpired",
        `the link to package ${packageId} expired at ${new Date(expiresMs).toISOString()} (links last ${CODE_URL_TTL_MS / 60_000} minutes); ${FRESH_LINK}`,
      );
    }
  }

  #mac(packageId: string, expires: string): Buffer {
    return createHmac("sha256", this.#key).update(`${packageId}\n${expires}`).digest();
  }
}
