/**
 * An HTTP API stage's access-log line: its format string with each `$context.…` variable
 * replaced by what is known of the request, `-` for a variable with no value here (unknown to
 * Nimbus, or not set for this request), as API Gateway writes them. A JSON format is a format
 * string like any other. The format is compiled once per stage (`compileAccessLogFormat`), so a
 * request's line is a walk over literal parts and lookups.
 *
 * Two Nimbus choices: a format that starts with `{` is taken as JSON, and each value is escaped
 * for a JSON string (a quote in a user agent cannot break the line); in any format, control
 * characters are escaped, so one request is always one line and a header cannot forge another.
 * `$context.error.messageString` is the message already quoted, as API Gateway defines it, and
 * goes in as is.
 */
import { clfTime } from "../../protocol/events/http.js";

/** What is known of one request when its line is written. */
export interface AccessLogContext {
  readonly requestId: string;
  readonly extendedRequestId?: string;
  readonly accountId?: string;
  readonly apiId: string;
  readonly domainName?: string;
  readonly domainPrefix?: string;
  readonly stage: string;
  readonly routeKey?: string;
  readonly httpMethod: string;
  readonly path: string;
  readonly protocol: string;
  readonly sourceIp: string;
  readonly userAgent?: string;
  readonly requestTimeEpochMs: number;
  readonly status: number;
  readonly responseLength?: number;
  /** From the request's arrival to the answer's start, ms. */
  readonly responseLatency?: number;
  readonly integrationLatency?: number;
  readonly integrationStatus?: number;
  readonly integrationErrorMessage?: string;
  readonly authorizer?: {
    /** A JWT authorizer's claims, already strings. */
    readonly claims?: Readonly<Record<string, string>>;
    /** A Lambda authorizer's context. */
    readonly context?: Readonly<Record<string, unknown>>;
    readonly principalId?: string;
    readonly error?: string;
    readonly latency?: number;
    readonly status?: number;
  };
  readonly error?: { readonly message?: string; readonly responseType?: string };
}

type Lookup = (c: AccessLogContext) => string | number | undefined;

const VARIABLES: ReadonlyMap<string, Lookup> = new Map<string, Lookup>([
  ["requestId", (c) => c.requestId],
  ["extendedRequestId", (c) => c.extendedRequestId ?? c.requestId],
  ["accountId", (c) => c.accountId],
  ["apiId", (c) => c.apiId],
  ["domainName", (c) => c.domainName],
  ["domainPrefix", (c) => c.domainPrefix],
  ["stage", (c) => c.stage],
  ["routeKey", (c) => c.routeKey],
  ["httpMethod", (c) => c.httpMethod],
  ["path", (c) => c.path],
  ["protocol", (c) => c.protocol],
  ["identity.sourceIp", (c) => c.sourceIp],
  ["identity.userAgent", (c) => c.userAgent],
  ["requestTime", (c) => clfTime(c.requestTimeEpochMs)],
  ["requestTimeEpoch", (c) => c.requestTimeEpochMs],
  ["status", (c) => c.status],
  ["responseLength", (c) => c.responseLength],
  ["responseLatency", (c) => c.responseLatency],
  ["integrationLatency", (c) => c.integrationLatency],
  ["integration.latency", (c) => c.integrationLatency],
  ["integrationStatus", (c) => c.integrationStatus],
  ["integration.status", (c) => c.integrationStatus],
  ["integrationErrorMessage", (c) => c.integrationErrorMessage],
  ["integration.error", (c) => c.integrationErrorMessage],
  ["authorizer.principalId", (c) => c.authorizer?.principalId],
  ["authorizer.error", (c) => c.authorizer?.error],
  ["authorizer.latency", (c) => c.authorizer?.latency],
  ["authorizer.status", (c) => c.authorizer?.status],
  ["error.message", (c) => c.error?.message],
  [
    "error.messageString",
    (c) => (c.error?.message === undefined ? undefined : JSON.stringify(c.error.message)),
  ],
  ["error.responseType", (c) => c.error?.responseType],
]);

const CLAIMS = "authorizer.claims.";
const AUTHORIZER = "authorizer.";
/** Values that are already encoded for the line. */
const PRE_ENCODED: ReadonlySet<string> = new Set(["error.messageString"]);

type Part = string | { readonly name: string; readonly lookup: Lookup | undefined };

export interface AccessLogFormat {
  /** The line for one request, without a newline. */
  render(c: AccessLogContext): string;
}

/** Compiles a stage's access-log format once, for every request's line. */
export function compileAccessLogFormat(format: string): AccessLogFormat {
  const json = format.trimStart().startsWith("{");
  const parts: Part[] = [];
  let last = 0;
  for (const m of format.matchAll(/\$context\.([A-Za-z0-9_:.-]+)/g)) {
    // A sentence's full stop is not part of the name: `… $context.status.`
    const name = m[1]!.replace(/[.:-]+$/, "");
    if (m.index > last) parts.push(format.slice(last, m.index));
    parts.push({ name, lookup: lookupFor(name) });
    last = m.index + "$context.".length + name.length;
  }
  if (last < format.length) parts.push(format.slice(last));

  return {
    render(c: AccessLogContext): string {
      let out = "";
      for (const part of parts) {
        if (typeof part === "string") {
          out += part;
          continue;
        }
        const value = part.lookup?.(c);
        if (value === undefined || value === "") out += "-";
        else if (typeof value === "number") out += String(value);
        else if (PRE_ENCODED.has(part.name)) out += escapeControls(value);
        else out += json ? JSON.stringify(value).slice(1, -1) : escapeControls(value);
      }
      return out;
    },
  };
}

function lookupFor(name: string): Lookup | undefined {
  const known = VARIABLES.get(name);
  if (known !== undefined) return known;
  if (name.startsWith(CLAIMS)) {
    const claim = name.slice(CLAIMS.length);
    return (c) => {
      const claims = c.authorizer?.claims;
      return claims !== undefined && Object.hasOwn(claims, claim) ? claims[claim] : undefined;
    };
  }
  if (name.startsWith(AUTHORIZER)) {
    const key = name.slice(AUTHORIZER.length);
    return (c) => {
      const context = c.authorizer?.context;
      if (context === undefined || !Object.hasOwn(context, key)) return undefined;
      const v = context[key];
      if (typeof v === "string" || typeof v === "number") return v;
      return v === undefined || v === null ? undefined : JSON.stringify(v);
    };
  }
  return undefined;
}

function escapeControls(s: string): string {
  let out: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0x20 && code !== 0x7f) {
      if (out !== undefined) out += s[i];
      continue;
    }
    out ??= s.slice(0, i);
    // JSON's own escapes (`\n`, `\u0001`); JSON leaves DEL as it is, so it is spelled out.
    out += code === 0x7f ? "\\u007f" : JSON.stringify(s[i]).slice(1, -1);
  }
  return out ?? s;
}
