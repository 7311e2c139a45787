/**
 * Platform configuration. One pure function: flags beat environment beat file beat defaults,
 * every problem is reported at once, and the result is frozen.
 */
import { totalmem } from "node:os";
import { DEFAULT_INIT_TIMEOUT_MS } from "../protocol/limits.js";
import { NimbusError } from "./errors.js";
import type { LogLevel } from "./logger.js";

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /**
   * Where the platform's state lives: "sqlite" (the embedded default: `nimbus.db` in the data
   * directory) or a PostgreSQL URL, `postgres://user@host:port/database[?schema=name]`.
   */
  readonly store: string;
  readonly region: string;
  readonly accountId: string;
  /** "verify" checks SigV4 on every request; "off" is for local experiments only. */
  readonly auth: "verify" | "off";
  readonly keepAliveMs: number;
  readonly initTimeoutMs: number;
  readonly accountConcurrency: number;
  readonly workerMemoryMb: number;
  readonly logRetentionMs: number;
  readonly isolateUsers: "auto" | "off";
  /**
   * The sandbox driver: "jail" (namespaces, read-only root, no network, seccomp), "gvisor"
   * (gVisor's user-space kernel), "process" (a child process with its own uid and control
   * groups), or "auto": the jail wherever it can run. Functions may name another tier.
   */
  readonly sandbox: "auto" | "jail" | "gvisor" | "process";
  /** "auto" bounds each instance's memory and weights its CPU with control groups when root. */
  readonly cgroups: "auto" | "off";
  readonly logLevel: LogLevel;
  /** On shutdown, how long running invocations may take to finish before they are cut. */
  readonly shutdownGraceMs: number;
  /** Async invocations: the waits before each retry after a function error (Lambda: 1 and 2 min). */
  readonly asyncRetryDelaysMs: readonly number[];
  /** Async invocations: backoff after a throttle or platform error, from min to max (Lambda: 1 s to 5 min). */
  readonly asyncBackoffMs: readonly [number, number];
  /** How long invocation records (and so idempotency keys) are kept after the invocation ends. */
  readonly recordRetentionMs: number;
  /** Whether synchronous invocations get an invocation record too. */
  readonly recordSyncInvocations: boolean;
  /** Node runtimes each worker keeps started ahead of cold starts (the warm pool); 0 turns it off. */
  readonly poolSize: number;
  /** "fixed": every idle instance stops after keepAliveMs; "adaptive": per function, learnt (keep-alive.ts). */
  readonly keepAlivePolicy: "fixed" | "adaptive";
  /** New instances one function may start at once (the burst limit)… */
  readonly instanceBurst: number;
  /** …and per second after that. */
  readonly instancesPerSecond: number;
  /** USD per request (Lambda x86: 0.20 per million). */
  readonly priceRequest: number;
  /** USD per GB-second of on-demand duration (Lambda x86: 0.0000166667). */
  readonly priceGbSecond: number;
  /** USD per GB-second a provisioned instance is up, busy or not (Lambda x86: 0.0000041667). */
  readonly priceProvisionedGbSecond: number;
  /** USD per GB-second of duration on a provisioned instance (Lambda x86: 0.0000097222). */
  readonly priceProvisionedDurationGbSecond: number;
  /** Deduct Lambda's monthly free tier (1 million requests, 400,000 GB-seconds) from costs. */
  readonly freeTier: boolean;
  /** An OpenTelemetry collector's OTLP/HTTP base URL to export traces to ("" : none). */
  readonly otlpEndpoint: string;
  /** Usage records (and so costs, budgets and traces); off only to measure what they cost. */
  readonly metering: boolean;
  /** The auth service's token issuer; "" : the platform's URL + `/auth/v1`. */
  readonly authIssuer: string;
  /** The app's home: where mailed links send a browser when no allowed redirect is named. */
  readonly authSiteUrl: string;
  /** Comma-separated redirect targets links may name besides the site (a trailing `*`: a prefix). */
  readonly authRedirectUrls: string;
  /** A password sign-up must confirm its address by mail before it can sign in. */
  readonly authConfirmEmail: boolean;
  readonly authAllowSignup: boolean;
  readonly authAllowAnonymous: boolean;
  /** Access tokens' lifetime in seconds. */
  readonly authTokenTtlSeconds: number;
  /** A function called before a user is created, to refuse the sign-up ("" : none). */
  readonly authHookBeforeUserCreated: string;
  /** A function called before an access token is signed, to change its claims ("" : none). */
  readonly authHookCustomAccessToken: string;
  readonly authHookTimeoutMs: number;
  /**
   * "on" limits the auth endpoints per client address and per account; "off" never refuses,
   * for benchmarks and trusted networks only (a public platform needs its limits).
   */
  readonly authRateLimits: "on" | "off";
  /**
   * Where auth's mail goes: an SMTP server, `smtp://user:password@host:587` (STARTTLS when the
   * server offers it) or `smtps://…:465` (TLS from the start); "" : the development inbox.
   */
  readonly authSmtpUrl: string;
  /** The sender of auth's mail: `Name <address>` or an address. */
  readonly authMailFrom: string;
  /** A CAPTCHA service's siteverify URL (hCaptcha, Turnstile, reCAPTCHA); "" : no CAPTCHA. */
  readonly authCaptchaVerifyUrl: string;
  /** The secret the CAPTCHA service gave this site; required with a verify URL. */
  readonly authCaptchaSecret: string;
  /** How long a CAPTCHA verification may take before the request is refused. */
  readonly authCaptchaTimeoutMs: number;
  /** Bytes of transformed images kept on disk (`<dataDir>/transforms`), least recently used out first; 0 keeps none. */
  readonly storageTransformCacheBytes: number;
}

type Source = Record<string, unknown>;

interface Field {
  readonly env: string;
  readonly parse: (raw: unknown, name: string, problems: string[]) => unknown;
}

const int = (min: number, max: number) => (raw: unknown, name: string, problems: string[]) => {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
};
const oneOf =
  (...values: string[]) =>
  (raw: unknown, name: string, problems: string[]) => {
    if (typeof raw !== "string" || !values.includes(raw))
      problems.push(`${name} must be one of ${values.join(", ")}, got ${JSON.stringify(raw)}`);
    return raw;
  };
const intList =
  (count: number, min: number, max: number) => (raw: unknown, name: string, problems: string[]) => {
    const parts = Array.isArray(raw) ? raw : String(raw).split(",");
    const values = parts.map((p) => Number(typeof p === "string" ? p.trim() : p));
    if (values.length !== count || values.some((n) => !Number.isInteger(n) || n < min || n > max)) {
      problems.push(
        `${name} must be ${count} comma-separated integers from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      );
    }
    return values;
  };
const price = (raw: unknown, name: string, problems: string[]) => {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1000 || (typeof raw === "string" && raw.trim() === ""))
    problems.push(`${name} must be a price in USD from 0 to 1000, got ${JSON.stringify(raw)}`);
  return n;
};
const bool = (raw: unknown, name: string, problems: string[]) => {
  if (raw === true || raw === "true" || raw === "1") return true;
  if (raw === false || raw === "false" || raw === "0") return false;
  problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`);
  return false;
};
const text = (pattern: RegExp, hint: string) => (raw: unknown, name: string, problems: string[]) => {
  if (typeof raw !== "string" || !pattern.test(raw))
    problems.push(`${name} must be ${hint}, got ${JSON.stringify(raw)}`);
  return raw;
};

/** A secret or a URL holding one: checked like `text`, but the problem never repeats the value. */
const secret = (pattern: RegExp, hint: string) => (raw: unknown, name: string, problems: string[]) => {
  if (typeof raw !== "string" || !pattern.test(raw))
    problems.push(`${name} must be ${hint} (the value given is not repeated here: it may hold a password)`);
  return raw;
};

const FIELDS: Record<keyof Config, Field> = {
  host: { env: "NIMBUS_HOST", parse: text(/^[\w.:-]+$/, "a host name or address") },
  port: { env: "NIMBUS_PORT", parse: int(0, 65535) },
  dataDir: { env: "NIMBUS_DATA", parse: text(/.+/, "a directory path") },
  store: {
    env: "NIMBUS_STORE",
    parse: text(
      /^(sqlite|postgres(ql)?:\/\/\S*)$/,
      "sqlite, or a PostgreSQL URL such as postgres://127.0.0.1:5432/nimbus",
    ),
  },
  region: { env: "NIMBUS_REGION", parse: text(/^[a-z]{2}(-[a-z]+)+-\d$/, "a region name like us-east-1") },
  accountId: { env: "NIMBUS_ACCOUNT_ID", parse: text(/^\d{12}$/, "12 digits") },
  auth: { env: "NIMBUS_AUTH", parse: oneOf("verify", "off") },
  keepAliveMs: { env: "NIMBUS_KEEP_ALIVE_MS", parse: int(10, 24 * 3600 * 1000) },
  initTimeoutMs: { env: "NIMBUS_INIT_TIMEOUT_MS", parse: int(100, 10 * 60 * 1000) },
  accountConcurrency: { env: "NIMBUS_CONCURRENCY", parse: int(1, 100_000) },
  workerMemoryMb: { env: "NIMBUS_WORKER_MEMORY_MB", parse: int(128, 16 * 1024 * 1024) },
  logRetentionMs: { env: "NIMBUS_LOG_RETENTION_MS", parse: int(60_000, 3650 * 24 * 3600 * 1000) },
  isolateUsers: { env: "NIMBUS_ISOLATE_USERS", parse: oneOf("auto", "off") },
  cgroups: { env: "NIMBUS_CGROUPS", parse: oneOf("auto", "off") },
  sandbox: { env: "NIMBUS_SANDBOX", parse: oneOf("auto", "jail", "gvisor", "process") },
  logLevel: { env: "NIMBUS_LOG_LEVEL", parse: oneOf("debug", "info", "warn", "error") },
  shutdownGraceMs: { env: "NIMBUS_SHUTDOWN_GRACE_MS", parse: int(0, 15 * 60 * 1000) },
  asyncRetryDelaysMs: { env: "NIMBUS_ASYNC_RETRY_DELAYS_MS", parse: intList(2, 0, 6 * 3600 * 1000) },
  asyncBackoffMs: { env: "NIMBUS_ASYNC_BACKOFF_MS", parse: intList(2, 1, 6 * 3600 * 1000) },
  recordRetentionMs: { env: "NIMBUS_RECORD_RETENTION_MS", parse: int(60_000, 3650 * 24 * 3600 * 1000) },
  recordSyncInvocations: { env: "NIMBUS_RECORD_SYNC", parse: bool },
  poolSize: { env: "NIMBUS_POOL_SIZE", parse: int(0, 64) },
  keepAlivePolicy: { env: "NIMBUS_KEEP_ALIVE_POLICY", parse: oneOf("fixed", "adaptive") },
  instanceBurst: { env: "NIMBUS_INSTANCE_BURST", parse: int(1, 100_000) },
  instancesPerSecond: { env: "NIMBUS_INSTANCES_PER_SECOND", parse: int(1, 100_000) },
  priceRequest: { env: "NIMBUS_PRICE_REQUEST", parse: price },
  priceGbSecond: { env: "NIMBUS_PRICE_GB_SECOND", parse: price },
  priceProvisionedGbSecond: { env: "NIMBUS_PRICE_PROVISIONED_GB_SECOND", parse: price },
  priceProvisionedDurationGbSecond: { env: "NIMBUS_PRICE_PROVISIONED_DURATION_GB_SECOND", parse: price },
  freeTier: { env: "NIMBUS_FREE_TIER", parse: bool },
  metering: { env: "NIMBUS_METERING", parse: bool },
  otlpEndpoint: {
    env: "NIMBUS_OTLP_ENDPOINT",
    parse: text(/^(https?:\/\/[^\s/]+(\/\S*)?)?$/, "an http(s) URL such as http://127.0.0.1:4318, or empty"),
  },
  authIssuer: {
    env: "NIMBUS_AUTH_ISSUER",
    parse: text(/^(https?:\/\/[^\s/]+(\/\S*)?)?$/, "an http(s) URL, or empty"),
  },
  authSiteUrl: { env: "NIMBUS_AUTH_SITE_URL", parse: text(/^https?:\/\/[^\s/]+(\/\S*)?$/, "an http(s) URL") },
  authRedirectUrls: { env: "NIMBUS_AUTH_REDIRECT_URLS", parse: text(/^[^\s]*$/, "comma-separated URLs") },
  authConfirmEmail: { env: "NIMBUS_AUTH_CONFIRM_EMAIL", parse: bool },
  authAllowSignup: { env: "NIMBUS_AUTH_ALLOW_SIGNUP", parse: bool },
  authAllowAnonymous: { env: "NIMBUS_AUTH_ALLOW_ANONYMOUS", parse: bool },
  authTokenTtlSeconds: { env: "NIMBUS_AUTH_TOKEN_TTL_SECONDS", parse: int(60, 7 * 24 * 3600) },
  authHookBeforeUserCreated: {
    env: "NIMBUS_AUTH_HOOK_BEFORE_USER_CREATED",
    parse: text(/^[\w:-]*$/, "a function name, or empty"),
  },
  authHookCustomAccessToken: {
    env: "NIMBUS_AUTH_HOOK_CUSTOM_ACCESS_TOKEN",
    parse: text(/^[\w:-]*$/, "a function name, or empty"),
  },
  authHookTimeoutMs: { env: "NIMBUS_AUTH_HOOK_TIMEOUT_MS", parse: int(100, 60_000) },
  authRateLimits: { env: "NIMBUS_AUTH_RATE_LIMITS", parse: oneOf("on", "off") },
  authSmtpUrl: {
    env: "NIMBUS_AUTH_SMTP_URL",
    parse: secret(
      /^(smtps?:\/\/([^\s/@]+@)?(\[[\da-fA-F:.]+\]|[^\s/@:?#[\]]+)(:\d{1,5})?\/?(\?\S*)?)?$/,
      "an SMTP URL such as smtp://user:password@mail.example.com:587 or smtps://…:465, or empty",
    ),
  },
  authMailFrom: {
    env: "NIMBUS_AUTH_MAIL_FROM",
    parse: text(
      /^([^\p{Cc}<>"]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/u,
      "an address such as Nimbus <no-reply@example.com> or no-reply@example.com",
    ),
  },
  authCaptchaVerifyUrl: {
    env: "NIMBUS_AUTH_CAPTCHA_VERIFY_URL",
    parse: text(
      /^(https?:\/\/[^\s/]+(\/\S*)?)?$/,
      "an http(s) URL such as https://api.hcaptcha.com/siteverify, or empty",
    ),
  },
  authCaptchaSecret: { env: "NIMBUS_AUTH_CAPTCHA_SECRET", parse: secret(/^\S*$/, "text without spaces") },
  authCaptchaTimeoutMs: { env: "NIMBUS_AUTH_CAPTCHA_TIMEOUT_MS", parse: int(100, 60_000) },
  storageTransformCacheBytes: { env: "NIMBUS_STORAGE_TRANSFORM_CACHE_BYTES", parse: int(0, 2 ** 50) },
};

/** Lambda's public x86 prices in USD (us-east-1, first duration tier): the default pricing. */
export const LAMBDA_X86_PRICES = {
  request: 0.2 / 1_000_000,
  gbSecond: 0.0000166667,
  provisionedGbSecond: 0.0000041667,
  provisionedDurationGbSecond: 0.0000097222,
} as const;

export function defaultConfig(): Config {
  return {
    host: "127.0.0.1",
    port: 9000,
    dataDir: ".nimbus",
    store: "sqlite",
    region: "us-east-1",
    accountId: "000000000000",
    auth: "verify",
    keepAliveMs: 10 * 60 * 1000,
    initTimeoutMs: DEFAULT_INIT_TIMEOUT_MS,
    accountConcurrency: 1000,
    workerMemoryMb: Math.floor((totalmem() / 1024 / 1024) * 0.8),
    logRetentionMs: 7 * 24 * 3600 * 1000,
    isolateUsers: "auto",
    cgroups: "auto",
    sandbox: "auto",
    logLevel: "info",
    shutdownGraceMs: 30_000,
    asyncRetryDelaysMs: [60_000, 120_000],
    asyncBackoffMs: [1_000, 300_000],
    recordRetentionMs: 7 * 24 * 3600 * 1000,
    recordSyncInvocations: false,
    poolSize: 2,
    keepAlivePolicy: "fixed",
    // Lambda lets a function add 1,000 instances per 10 seconds.
    instanceBurst: 100,
    instancesPerSecond: 100,
    priceRequest: LAMBDA_X86_PRICES.request,
    priceGbSecond: LAMBDA_X86_PRICES.gbSecond,
    priceProvisionedGbSecond: LAMBDA_X86_PRICES.provisionedGbSecond,
    priceProvisionedDurationGbSecond: LAMBDA_X86_PRICES.provisionedDurationGbSecond,
    freeTier: false,
    otlpEndpoint: "",
    metering: true,
    authIssuer: "",
    authSiteUrl: "http://localhost:3000",
    authRedirectUrls: "",
    authConfirmEmail: true,
    authAllowSignup: true,
    authAllowAnonymous: true,
    authTokenTtlSeconds: 3600,
    authHookBeforeUserCreated: "",
    authHookCustomAccessToken: "",
    authHookTimeoutMs: 2000,
    authRateLimits: "on",
    authSmtpUrl: "",
    authMailFrom: "Nimbus <no-reply@nimbus.localhost>",
    authCaptchaVerifyUrl: "",
    authCaptchaSecret: "",
    authCaptchaTimeoutMs: 5000,
    storageTransformCacheBytes: 256 * 1024 * 1024,
  };
}

/** Builds the configuration; throws one InvalidParameter error listing every problem. */
export function loadConfig(
  env: Record<string, string | undefined>,
  file: Source = {},
  flags: Source = {},
): Config {
  const out: Record<string, unknown> = { ...defaultConfig() };
  const problems: string[] = [];
  for (const key of Object.keys(file))
    if (!(key in FIELDS)) problems.push(`unknown setting "${key}" in the configuration file`);
  for (const [key, field] of Object.entries(FIELDS)) {
    const raw = flags[key] ?? env[field.env] ?? file[key];
    if (raw === undefined) continue;
    out[key] = field.parse(raw, key, problems);
  }
  if (out.authCaptchaVerifyUrl !== "" && out.authCaptchaSecret === "")
    problems.push(
      "authCaptchaSecret is required with authCaptchaVerifyUrl: the secret the CAPTCHA service gave this site",
    );
  if (problems.length > 0)
    throw new NimbusError("InvalidParameter", `invalid configuration:\n  ${problems.join("\n  ")}`);
  return Object.freeze(out as unknown as Config);
}
