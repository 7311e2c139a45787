/**
 * A function URL's row, as both stores keep it (same columns), and the config it reads as.
 * Columns rather than one JSON body (as the other settings tables have): the URL id is looked up on
 * every request to the URL and must be unique, which the database checks.
 */
import type { FunctionUrlConfig, UrlAuthType, UrlCors, UrlInvokeMode } from "../control/urls/repo.js";

export interface FunctionUrlRow {
  function_name: string;
  qualifier: string;
  url_id: string;
  auth_type: UrlAuthType;
  invoke_mode: UrlInvokeMode;
  cors: string | null;
  created_at: number;
  last_modified: number;
}

/** The `cors` column: JSON, or NULL for a URL without cross-origin settings. */
export function corsColumn(cors: UrlCors | undefined): string | null {
  return cors === undefined ? null : JSON.stringify(cors);
}

/** Every field present, `cors` undefined when unset: the same object from either store. */
export function toFunctionUrl(r: FunctionUrlRow): FunctionUrlConfig {
  return {
    urlId: r.url_id,
    functionName: r.function_name,
    qualifier: r.qualifier,
    authType: r.auth_type,
    invokeMode: r.invoke_mode,
    cors: r.cors === null ? undefined : (JSON.parse(r.cors) as UrlCors),
    createdAt: r.created_at,
    lastModified: r.last_modified,
  };
}
