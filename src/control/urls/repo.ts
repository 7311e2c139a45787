/** Function URLs as stored: one per function and qualifier, found by its URL id. */
import type { CorsSettings } from "../../protocol/cors.js";

/** Cross-origin settings of a function URL (Lambda's `Cors`). */
export type UrlCors = CorsSettings;

export type UrlAuthType = "NONE" | "AWS_IAM";
export type UrlInvokeMode = "BUFFERED" | "RESPONSE_STREAM";

/** A function URL: an HTTP endpoint for one function version or alias. */
export interface FunctionUrlConfig {
  /** 32 lower-case letters and digits: the first label of the URL's host. Unique. */
  readonly urlId: string;
  readonly functionName: string;
  /** `$LATEST`, an alias name, or (beyond Lambda, which takes none) a version number. */
  readonly qualifier: string;
  readonly authType: UrlAuthType;
  readonly invokeMode: UrlInvokeMode;
  readonly cors: UrlCors | undefined;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly lastModified: number;
}

export interface FunctionUrlsRepo {
  getFunctionUrl(functionName: string, qualifier: string): Promise<FunctionUrlConfig | undefined>;
  getFunctionUrlById(urlId: string): Promise<FunctionUrlConfig | undefined>;
  /** A function's URLs in byte order of their qualifiers. */
  listFunctionUrls(functionName: string): Promise<FunctionUrlConfig[]>;
  /** Every URL of every function, for a platform warming its cache at start. */
  listAllFunctionUrls(): Promise<FunctionUrlConfig[]>;
  /** Adds `config`; false (and nothing written) if (function, qualifier) already has a URL. */
  createFunctionUrl(config: FunctionUrlConfig): Promise<boolean>;
  /** Replaces the URL of (function, qualifier), its id and creation time kept; false if none. */
  updateFunctionUrl(config: FunctionUrlConfig): Promise<boolean>;
  deleteFunctionUrl(functionName: string, qualifier: string): Promise<boolean>;
}
