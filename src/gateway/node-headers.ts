/**
 * Response headers as Node's `writeHead` takes them, from a Headers object, a record or a list
 * of pairs (a repeated name joined as Headers joins it): each `set-cookie` kept apart.
 */
import type { OutgoingHttpHeaders } from "node:http";

export function nodeHeaders(
  headers: Headers | Readonly<Record<string, string>> | readonly (readonly [string, string])[],
): OutgoingHttpHeaders {
  if (Array.isArray(headers)) {
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of headers as readonly (readonly [string, string])[]) {
      const earlier = out[name];
      if (earlier === undefined) out[name] = value;
      else if (name === "set-cookie")
        out[name] = [...(Array.isArray(earlier) ? earlier : [String(earlier)]), value];
      // As a Headers object appends a repeated name.
      else out[name] = `${earlier}, ${value}`;
    }
    return out;
  }
  if (!(headers instanceof Headers)) return headers as Readonly<Record<string, string>>;
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) if (name !== "set-cookie") out[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}
