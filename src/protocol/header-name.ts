/**
 * RFC 9110's token: the characters an HTTP header name may use. Anything a platform writes as a
 * header name, or lists in a header's value as names (CORS's allow and expose lists), must be one,
 * or Node refuses to write the answer.
 */
export function isHeaderName(s: string): boolean {
  if (s === "") return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || // 0-9
      (c >= 0x41 && c <= 0x5a) || // A-Z
      (c >= 0x61 && c <= 0x7a) || // a-z
      "!#$%&'*+-.^_`|~".includes(s[i]!);
    if (!ok) return false;
  }
  return true;
}
