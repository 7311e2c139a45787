/**
 * Cross-origin settings, as function URLs (Lambda's `Cors`) and HTTP APIs (API Gateway's
 * `CorsConfiguration`) both keep them; the gateway answers preflights and adds the headers from
 * them (`gateway/cors.ts`). Each owner checks the values by its own contract's rules. What is
 * left out is not sent.
 */
export interface CorsSettings {
  readonly allowCredentials?: boolean;
  /** Request headers a preflight may ask for; `*` for any. */
  readonly allowHeaders?: readonly string[];
  /** Upper-case methods, or `*`. */
  readonly allowMethods?: readonly string[];
  /** `https://example.com`, `http://localhost:5173`, or `*`. */
  readonly allowOrigins?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  /** Seconds a browser may cache a preflight answer. */
  readonly maxAge?: number;
}
