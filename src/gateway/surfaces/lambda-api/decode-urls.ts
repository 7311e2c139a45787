/**
 * The function URL operations' bodies (CreateFunctionUrlConfig, UpdateFunctionUrlConfig), in
 * the control plane's own spec types; Lambda's `Cors` member names end here.
 */
import * as v from "../../../control/registry/validate.js";
import {
  type FunctionUrlPatch,
  type FunctionUrlSpec,
  URL_EXPECTED,
} from "../../../control/urls/function-urls.js";
import type { UrlAuthType, UrlCors, UrlInvokeMode } from "../../../control/urls/repo.js";
import { type Body, Fields } from "./fields.js";

/** CreateFunctionUrlConfig's body: AuthType is required, InvokeMode and Cors are not. */
export function functionUrlSpec(body: Body): FunctionUrlSpec {
  const f = new Fields(body);
  const authType = f.required("AuthType", "authType", "string", URL_EXPECTED.authType) as UrlAuthType;
  const invokeMode = f.optional("InvokeMode", "invokeMode", "string", URL_EXPECTED.invokeMode) as
    | UrlInvokeMode
    | undefined;
  const cors = corsOf(f);
  f.done();
  return { authType, invokeMode, cors: cors ?? undefined };
}

/** UpdateFunctionUrlConfig's body: what it gives changes; `Cors: null` or `{}` removes CORS. */
export function functionUrlPatch(body: Body): FunctionUrlPatch {
  const f = new Fields(body);
  const authType = f.optional("AuthType", "authType", "string", URL_EXPECTED.authType) as
    | UrlAuthType
    | undefined;
  const invokeMode = f.optional("InvokeMode", "invokeMode", "string", URL_EXPECTED.invokeMode) as
    | UrlInvokeMode
    | undefined;
  const cors = corsOf(f);
  f.done();
  return { authType, invokeMode, cors };
}

/** A function URL's Cors; null, or an object without members, is none. */
function corsOf(f: Fields): UrlCors | null | undefined {
  const raw = f.body.Cors;
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    f.problems.push(v.problem("cors", raw, "type", "be an object"));
    return undefined;
  }
  const c = raw as Body;
  const strings = (key: string, field: keyof typeof URL_EXPECTED): string[] | undefined => {
    const list = c[key];
    if (list === undefined) return undefined;
    if (Array.isArray(list) && list.every((s) => typeof s === "string")) return list as string[];
    f.problems.push(v.problem(`cors.${field}`, list, "type", URL_EXPECTED[field]));
    return undefined;
  };
  const credentials = c.AllowCredentials;
  if (credentials !== undefined && typeof credentials !== "boolean")
    f.problems.push(v.problem("cors.allowCredentials", credentials, "type", "be true or false"));
  const maxAge = c.MaxAge;
  if (maxAge !== undefined && typeof maxAge !== "number")
    f.problems.push(v.problem("cors.maxAge", maxAge, "type", URL_EXPECTED.maxAge));
  const cors: UrlCors = {
    ...(typeof credentials === "boolean" ? { allowCredentials: credentials } : {}),
    ...optionalList("allowHeaders", strings("AllowHeaders", "allowHeaders")),
    ...optionalList("allowMethods", strings("AllowMethods", "allowMethods")),
    ...optionalList("allowOrigins", strings("AllowOrigins", "allowOrigins")),
    ...optionalList("exposeHeaders", strings("ExposeHeaders", "exposeHeaders")),
    ...(typeof maxAge === "number" ? { maxAge } : {}),
  };
  return Object.keys(cors).length === 0 ? null : cors;
}

function optionalList<K extends string>(key: K, list: string[] | undefined): { [k in K]?: string[] } {
  return list === undefined ? {} : ({ [key]: list } as { [k in K]?: string[] });
}
