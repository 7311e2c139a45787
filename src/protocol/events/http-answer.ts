/**
 * What a function's result means as an HTTP answer behind a function URL or an HTTP API, by
 * the rules of payload format 2.0 and 1.0; and, for a result those rules refuse, a reason
 * the developer can act on (the caller answers 502 and writes the reason to the function's log,
 * where API Gateway writes "Malformed Lambda proxy response").
 */

import { isHeaderName } from "../header-name.js";

/** The HTTP answer to send. */
export interface HttpAnswer {
  readonly status: number;
  /** Lower-case names, in the function's order; each `set-cookie` its own entry. */
  readonly headers: [string, string][];
  readonly body: Buffer;
}

/** A result the payload format's rules refuse. */
export interface MalformedAnswer {
  readonly malformed: true;
  /** What was wrong and what is expected, for the function's log. */
  readonly reason: string;
}

const EMPTY = Buffer.alloc(0);

/**
 * The answer a 2.0 result stands for. A JSON object with `statusCode` is a structured answer:
 * `statusCode`, `headers` (strings, numbers or booleans), `cookies` (each a `set-cookie`),
 * `body` (a string; decoded when `isBase64Encoded`). 2.0 has no `multiValueHeaders`: a result
 * carrying one has it ignored, as API Gateway ignores every field 2.0 does not define.
 *
 * Any other JSON value (an object without `statusCode`, an array, a number, a string, `null`)
 * is a 200 `application/json` whose body is the result's JSON text, as received. That holds for
 * a string too: Lambda's function URL guide shows `"Hello, world!"` reaching the client with
 * its quotes (content-length 15), so the body stays valid JSON, as its type says.
 *
 * An empty result is not JSON, but it is what a runtime posts for a function that returned
 * nothing; refusing it with a 502 would punish the function for answering nothing, so it is a
 * 200 `application/json` with an empty body. (The Node runtime never posts one: it sends
 * `null` for `undefined`, which is a 200 whose body is `null`.)
 */
export function httpResponseFromV2(payload: Buffer): HttpAnswer | MalformedAnswer {
  if (isBlank(payload)) return jsonAnswer(EMPTY);
  const parsed = parseJson(payload);
  if ("malformed" in parsed) return parsed;
  const result = parsed.value;
  if (!isPlainObject(result) || !("statusCode" in result)) return jsonAnswer(payload);

  const status = checkStatus(result.statusCode);
  if (typeof status === "string") return malformed(status);
  const headers: [string, string][] = [];
  const problem = addHeaders(headers, result.headers) ?? addCookies(headers, result.cookies);
  if (problem !== undefined) return malformed(problem);
  const body = decodeBody(result.body, result.isBase64Encoded);
  if (typeof body === "string") return malformed(body);
  return { status, headers, body };
}

/**
 * The answer a 1.0 result stands for: an object with `statusCode` (required: 1.0 infers
 * nothing), `headers`, `multiValueHeaders`, `body` (a string) and `isBase64Encoded`. A name in
 * both header maps takes the values of `multiValueHeaders`, as API Gateway merges them; each
 * value of a multi-value header is its own header line.
 */
export function httpResponseFromV1(payload: Buffer): HttpAnswer | MalformedAnswer {
  if (isBlank(payload))
    return malformed(
      'the function returned nothing; payload format 1.0 needs an object such as {"statusCode":200,"body":"…"}',
    );
  const parsed = parseJson(payload);
  if ("malformed" in parsed) return parsed;
  const result = parsed.value;
  if (!isPlainObject(result))
    return malformed(
      `the function returned ${describe(result)}; payload format 1.0 needs an object such as {"statusCode":200,"body":"…"}`,
    );
  if (!("statusCode" in result))
    return malformed(
      'the result has no statusCode; payload format 1.0 needs one, as in {"statusCode":200,"body":"…"}',
    );
  const status = checkStatus(result.statusCode);
  if (typeof status === "string") return malformed(status);

  const multi: [string, string][] = [];
  const problem = addMultiValueHeaders(multi, result.multiValueHeaders);
  if (problem !== undefined) return malformed(problem);
  const single: [string, string][] = [];
  const singleProblem = addHeaders(single, result.headers);
  if (singleProblem !== undefined) return malformed(singleProblem);
  const headers =
    multi.length === 0 ? single : [...single.filter(([n]) => !multi.some(([m]) => m === n)), ...multi];
  const body = decodeBody(result.body, result.isBase64Encoded);
  if (typeof body === "string") return malformed(body);
  return { status, headers, body };
}

function jsonAnswer(body: Buffer): HttpAnswer {
  return { status: 200, headers: [["content-type", "application/json"]], body };
}

function malformed(reason: string): MalformedAnswer {
  return { malformed: true, reason };
}

/** Whether a payload holds only JSON whitespace (or nothing). */
function isBlank(payload: Buffer): boolean {
  for (const byte of payload)
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  return true;
}

function parseJson(payload: Buffer): { value: unknown } | MalformedAnswer {
  try {
    return { value: JSON.parse(payload.toString("utf8")) };
  } catch (err) {
    const start = payload.subarray(0, 40).toString("utf8");
    const shown = payload.length > 40 ? `${start}…` : start;
    return malformed(
      `the function's result is not JSON (${(err as Error).message}); it starts ${JSON.stringify(shown)}. An HTTP function returns JSON, such as {"statusCode":200,"body":"…"}`,
    );
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The status, or what is wrong with it. A 1xx is informational: it cannot end an answer, and
 * sent as one it leaves the client waiting for the final status that never comes.
 */
function checkStatus(v: unknown): number | string {
  return finalStatusProblem(v) ?? (v as number);
}

/** What keeps `v` from being a final HTTP status (an integer from 200 to 599), if anything. */
export function finalStatusProblem(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isInteger(v) && v >= 200 && v <= 599) return undefined;
  if (typeof v === "number" && Number.isInteger(v) && v >= 100 && v <= 199)
    return `statusCode ${v} is informational (1xx), which cannot be the answer's final status; expected an integer from 200 to 599`;
  return `statusCode must be an integer from 200 to 599, got ${describe(v)}`;
}

/** Appends a `headers` map to `out`; what is wrong with it, if anything. */
function addHeaders(out: [string, string][], headers: unknown): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (!isPlainObject(headers))
    return `headers must be an object of header names to strings, got ${describe(headers)}`;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (!isScalar(value))
      return `headers["${name}"] must be a string, number or boolean, got ${describe(value)}`;
    const before = out.length;
    const problem = addHeader(out, name, String(value));
    if (problem !== undefined) return problem;
    if (out.length === before) continue;
    // `Content-Type` and `content-type` in one map are one header: the later one wins, as a
    // repeated JSON key would. Only set-cookie may repeat.
    const added = out[out.length - 1]![0];
    if (added !== "set-cookie") {
      const earlier = out.findIndex(([n]) => n === added);
      if (earlier < out.length - 1) out.splice(earlier, 1);
    }
  }
  return undefined;
}

/** Appends a 1.0 `multiValueHeaders` map to `out`; what is wrong with it, if anything. */
function addMultiValueHeaders(out: [string, string][], headers: unknown): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (!isPlainObject(headers))
    return `multiValueHeaders must be an object of header names to arrays of strings, got ${describe(headers)}`;
  for (const name of Object.keys(headers)) {
    const values = headers[name];
    if (!Array.isArray(values))
      return `multiValueHeaders["${name}"] must be an array of strings, got ${describe(values)}`;
    for (const [i, value] of values.entries()) {
      if (!isScalar(value))
        return `multiValueHeaders["${name}"][${i}] must be a string, number or boolean, got ${describe(value)}`;
      const problem = addHeader(out, name, String(value));
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function addCookies(out: [string, string][], cookies: unknown): string | undefined {
  if (cookies === undefined || cookies === null) return undefined;
  if (!Array.isArray(cookies)) return `cookies must be an array of strings, got ${describe(cookies)}`;
  for (const [i, cookie] of cookies.entries()) {
    if (typeof cookie !== "string") return `cookies[${i}] must be a string, got ${describe(cookie)}`;
    const problem = addHeader(out, "set-cookie", cookie);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Headers that frame a message or manage its connection (RFC 9110 7.6.1, RFC 9112 6): the
 * platform's HTTP server sets them for each connection, as any proxy does. A function's own are
 * dropped: a `content-length` shorter than the body would end the answer early and leave the
 * rest on a kept-alive connection, where the client reads it as the answer to its next request;
 * a `connection: close` or `transfer-encoding` would change how the server frames the body.
 * Frameworks behind adapters often copy their server's `content-length`, `connection` and
 * `transfer-encoding` into the result, so dropping them (not refusing the answer) keeps those apps working.
 */
const FRAMING_HEADERS = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Whether the platform, not the function, sets a header of this lower-case name. */
export function isFramingHeader(lowerName: string): boolean {
  return FRAMING_HEADERS.has(lowerName);
}

/**
 * Appends one header, its name lower-cased; what is wrong with it, if anything. A framing
 * header is left out.
 */
function addHeader(out: [string, string][], rawName: string, value: string): string | undefined {
  const problem = headerProblem(rawName, value);
  if (problem !== undefined) return problem;
  const name = rawName.toLowerCase();
  if (!FRAMING_HEADERS.has(name)) out.push([name, value]);
  return undefined;
}

/**
 * What keeps a function's header from going on the wire, if anything. A name that is not a
 * token, or a value with a line break, a control character or a character outside ASCII, is
 * the function's mistake, reported as such rather than failing later as the platform's (or
 * reaching the client in an encoding it has to guess).
 */
export function headerProblem(rawName: string, value: string): string | undefined {
  if (!isHeaderName(rawName)) return `header name ${JSON.stringify(rawName)} is not a valid HTTP header name`;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x00)
      return `header ${JSON.stringify(rawName)} has a line break or NUL in its value, which HTTP cannot carry`;
    // Tab, space and visible ASCII. Node would refuse control characters and anything past
    // U+00FF, and would send U+0080 to U+00FF as Latin-1 bytes in a whole answer but as UTF-8
    // in a streamed one: HTTP says no encoding for such bytes, so none is guessed.
    if ((c < 0x20 && c !== 0x09) || c > 0x7e)
      return `header ${JSON.stringify(rawName)} has ${charName(value, i)} in its value; header values are ASCII (HTTP names no encoding for other bytes): percent-encode it (encodeURIComponent) or send it in the body`;
  }
  return undefined;
}

/** The character at `i`, as a reason names it: `"☃" (U+2603)`, or the code alone for a control character. */
function charName(s: string, i: number): string {
  const code = s.codePointAt(i)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code < 0x20 || code === 0x7f
    ? `the control character ${hex}`
    : `${JSON.stringify(String.fromCodePoint(code))} (${hex})`;
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** The body's bytes, or what is wrong with it. A missing or null body is an empty one. */
function decodeBody(body: unknown, isBase64Encoded: unknown): Buffer | string {
  if (isBase64Encoded !== undefined && isBase64Encoded !== null && typeof isBase64Encoded !== "boolean")
    return `isBase64Encoded must be true or false, got ${describe(isBase64Encoded)}`;
  if (body === undefined || body === null) return EMPTY;
  if (typeof body !== "string")
    return `body must be a string, got ${describe(body)}; to send JSON, return body: JSON.stringify(value)`;
  if (isBase64Encoded !== true) return Buffer.from(body, "utf8");
  const bad = base64Problem(body);
  if (bad !== undefined) return `isBase64Encoded is true but body is not base64: ${bad}`;
  return Buffer.from(body, "base64");
}

/**
 * What makes `s` not standard base64 (RFC 4648, padding optional), if anything. Node's decoder
 * skips what it cannot read, so a body that is not base64 would reach the client as garbage.
 */
function base64Problem(s: string): string | undefined {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d /* = */ && s.length - end < 2) end--;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f;
    if (!ok) return `${JSON.stringify(s[i])} at position ${i} is not a base64 character`;
  }
  const padded = end !== s.length;
  if (padded ? s.length % 4 !== 0 : end % 4 === 1) return `its length (${s.length}) is not a base64 length`;
  return undefined;
}

/** A value's kind and, when short, the value: `a string ("200")`, `an array`, `null`. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
    case "number":
      return `the number ${v}`;
    case "boolean":
      return `${v}`;
    default:
      return "an object";
  }
}
