/**
 * Function URLs: an HTTP endpoint per function version or alias, found by the id in its host.
 * Settings are kept in the store and served from memory: every request to a URL looks its id up
 * here, so the lookup is a map read. This platform is the store's only writer (one platform per
 * store), so writing through keeps the map exact; deleting a function drops its URLs (the store
 * cascades, the registry's `retire` tells this module).
 */
import { randomBytes } from "node:crypto";
import { LATEST } from "../../protocol/function.js";
import { isHeaderName } from "../../protocol/header-name.js";
import type { Clock } from "../../shared/clock.js";
import { NimbusError, type Problem } from "../../shared/errors.js";
import type { Registry } from "../registry/registry.js";
import * as v from "../registry/validate.js";
import type { FunctionUrlConfig, FunctionUrlsRepo, UrlAuthType, UrlCors, UrlInvokeMode } from "./repo.js";

export const URL_AUTH_TYPES: readonly UrlAuthType[] = ["NONE", "AWS_IAM"];
export const URL_INVOKE_MODES: readonly UrlInvokeMode[] = ["BUFFERED", "RESPONSE_STREAM"];
const MAX_CORS_AGE_S = 86_400;
const MAX_CORS_ENTRIES = 100;
const MAX_CORS_ENTRY_LENGTH = 1_024;
const METHOD = /^([A-Z]{1,6}|\*)$/;
const ORIGIN = /^(\*|https?:\/\/[^\s/?#]+)$/;

/** What each setting expects, completing "must …". */
export const URL_EXPECTED = {
  authType: `be one of ${URL_AUTH_TYPES.join(", ")}`,
  invokeMode: `be one of ${URL_INVOKE_MODES.join(", ")}`,
  allowOrigins: `be at most ${MAX_CORS_ENTRIES} origins such as https://example.com or http://localhost:5173, or *`,
  allowMethods: `be at most ${MAX_CORS_ENTRIES} upper-case HTTP methods (GET, POST, …) or *`,
  allowHeaders: `be at most ${MAX_CORS_ENTRIES} header names of at most ${MAX_CORS_ENTRY_LENGTH} characters`,
  exposeHeaders: `be at most ${MAX_CORS_ENTRIES} header names of at most ${MAX_CORS_ENTRY_LENGTH} characters`,
  maxAge: `be an integer from 0 to ${MAX_CORS_AGE_S} (seconds)`,
  qualifier: "be $LATEST, an alias name or a version number",
} as const;

/** A new URL's settings. */
export interface FunctionUrlSpec {
  readonly authType: UrlAuthType;
  readonly invokeMode?: UrlInvokeMode | undefined;
  readonly cors?: UrlCors | undefined;
}

/** Settings to change; `cors: null` removes the CORS configuration. */
export interface FunctionUrlPatch {
  readonly authType?: UrlAuthType | undefined;
  readonly invokeMode?: UrlInvokeMode | undefined;
  readonly cors?: UrlCors | null | undefined;
}

export class FunctionUrls {
  readonly #store: FunctionUrlsRepo;
  readonly #registry: Pick<Registry, "get" | "arn">;
  readonly #clock: Clock;
  readonly #byId = new Map<string, FunctionUrlConfig>();

  constructor(deps: { store: FunctionUrlsRepo; registry: Pick<Registry, "get" | "arn">; clock: Clock }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#clock = deps.clock;
  }

  /** Loads every URL into memory: before the gateway serves any. */
  async start(): Promise<void> {
    this.#byId.clear();
    for (const c of await this.#store.listAllFunctionUrls()) this.#byId.set(c.urlId, c);
  }

  /** The URL whose host or path carries `urlId`, from memory. */
  byId(urlId: string): FunctionUrlConfig | undefined {
    return this.#byId.get(urlId);
  }

  async create(
    name: string,
    qualifier: string | undefined,
    spec: FunctionUrlSpec,
  ): Promise<FunctionUrlConfig> {
    const q = await this.#target(name, qualifier);
    v.report(checkSpec(spec));
    const now = this.#clock.now();
    const config: FunctionUrlConfig = {
      urlId: newUrlId(),
      functionName: name,
      qualifier: q,
      authType: spec.authType,
      invokeMode: spec.invokeMode ?? "BUFFERED",
      cors: spec.cors && normalizeCors(spec.cors),
      createdAt: now,
      lastModified: now,
    };
    if (!(await this.#store.createFunctionUrl(config)))
      throw new NimbusError(
        "Conflict",
        `Failed to create function url config for [functionArn = ${this.#registry.arn(name, qualifierOrUndefined(q))}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
      );
    this.#byId.set(config.urlId, config);
    return config;
  }

  async get(name: string, qualifier: string | undefined): Promise<FunctionUrlConfig> {
    const q = await this.#target(name, qualifier);
    const found = await this.#store.getFunctionUrl(name, q);
    if (!found) throw this.#notFound(name, q);
    return found;
  }

  async update(
    name: string,
    qualifier: string | undefined,
    patch: FunctionUrlPatch,
  ): Promise<FunctionUrlConfig> {
    const q = await this.#target(name, qualifier);
    const current = await this.#store.getFunctionUrl(name, q);
    if (!current) throw this.#notFound(name, q);
    const next: FunctionUrlConfig = {
      ...current,
      authType: patch.authType ?? current.authType,
      invokeMode: patch.invokeMode ?? current.invokeMode,
      cors:
        patch.cors === null ? undefined : patch.cors === undefined ? current.cors : normalizeCors(patch.cors),
      lastModified: this.#clock.now(),
    };
    v.report(checkSpec(next));
    if (!(await this.#store.updateFunctionUrl(next))) throw this.#notFound(name, q);
    this.#byId.set(next.urlId, next);
    return next;
  }

  async delete(name: string, qualifier: string | undefined): Promise<void> {
    const q = await this.#target(name, qualifier);
    const current = await this.#store.getFunctionUrl(name, q);
    if (!current || !(await this.#store.deleteFunctionUrl(name, q))) throw this.#notFound(name, q);
    this.#byId.delete(current.urlId);
  }

  /** A function's URLs, a page at a time in byte order of their qualifiers. */
  async list(
    name: string,
    marker: string | undefined,
    maxItems: number,
  ): Promise<{ configs: FunctionUrlConfig[]; next: string | undefined }> {
    await this.#registry.get(name);
    const all = await this.#store.listFunctionUrls(name);
    const start = marker === undefined ? 0 : all.findIndex((c) => c.qualifier > marker);
    const page = start === -1 ? [] : all.slice(start, start + maxItems);
    const more = start !== -1 && start + maxItems < all.length;
    return { configs: page, next: more ? page[page.length - 1]!.qualifier : undefined };
  }

  /**
   * The registry retired a function (all of it) or one of its versions: their URLs go. The
   * store drops a deleted function's rows itself; a deleted version's are deleted here.
   */
  retired(functionName: string, version?: string): void {
    for (const [id, c] of this.#byId) {
      if (c.functionName !== functionName) continue;
      if (version === undefined) this.#byId.delete(id);
      else if (c.qualifier === version) {
        this.#byId.delete(id);
        void this.#store.deleteFunctionUrl(functionName, version).catch(() => undefined);
      }
    }
  }

  /** The qualifier a URL call names, checked to exist: `$LATEST` when none is given. */
  async #target(name: string, qualifier: string | undefined): Promise<string> {
    const q = qualifier === undefined || qualifier === "" ? LATEST : qualifier;
    v.report(v.functionName(name), v.qualifier(q));
    await this.#registry.get(name, q === LATEST ? undefined : q);
    return q;
  }

  #notFound(name: string, q: string): NimbusError {
    return new NimbusError(
      "NotFound",
      `The resource you requested does not exist. (Function URL of ${this.#registry.arn(name, qualifierOrUndefined(q))})`,
    );
  }
}

function qualifierOrUndefined(q: string): string | undefined {
  return q === LATEST ? undefined : q;
}

/** 32 lower-case letters and digits, as Lambda's URL ids: 160 random bits in base 32. */
function newUrlId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = randomBytes(32);
  let id = "";
  for (const b of bytes) id += alphabet[b & 31];
  return id;
}

/** Header names compare case-insensitively: stored lower-case, as they are matched. */
function normalizeCors(cors: UrlCors): UrlCors {
  const lower = (list: readonly string[] | undefined) => list?.map((h) => h.toLowerCase());
  return {
    ...(cors.allowCredentials === undefined ? {} : { allowCredentials: cors.allowCredentials }),
    ...(cors.allowHeaders === undefined ? {} : { allowHeaders: lower(cors.allowHeaders)! }),
    ...(cors.allowMethods === undefined
      ? {}
      : { allowMethods: cors.allowMethods.map((m) => m.toUpperCase()) }),
    ...(cors.allowOrigins === undefined ? {} : { allowOrigins: [...cors.allowOrigins] }),
    ...(cors.exposeHeaders === undefined ? {} : { exposeHeaders: lower(cors.exposeHeaders)! }),
    ...(cors.maxAge === undefined ? {} : { maxAge: cors.maxAge }),
  };
}

function checkSpec(spec: FunctionUrlSpec): Problem[] {
  const problems: Problem[] = [];
  if (!URL_AUTH_TYPES.includes(spec.authType))
    problems.push(v.problem("authType", spec.authType, "oneOf", URL_EXPECTED.authType));
  if (spec.invokeMode !== undefined && !URL_INVOKE_MODES.includes(spec.invokeMode))
    problems.push(v.problem("invokeMode", spec.invokeMode, "oneOf", URL_EXPECTED.invokeMode));
  const cors = spec.cors;
  if (!cors) return problems;
  const list = (
    field: keyof typeof URL_EXPECTED,
    values: readonly string[] | undefined,
    ok: (s: string) => boolean,
  ) => {
    if (values === undefined) return;
    const bad = values.length > MAX_CORS_ENTRIES ? values : values.find((s) => !ok(s));
    if (bad !== undefined) problems.push(v.problem(`cors.${field}`, bad, "pattern", URL_EXPECTED[field]));
  };
  // Each goes out in an answer's access-control-* header: a name Node cannot write fails every preflight.
  const header = (s: string) => s.length <= MAX_CORS_ENTRY_LENGTH && isHeaderName(s);
  list("allowOrigins", cors.allowOrigins, (s) => s.length <= MAX_CORS_ENTRY_LENGTH && ORIGIN.test(s));
  list("allowMethods", cors.allowMethods, (s) => METHOD.test(s.toUpperCase()));
  list("allowHeaders", cors.allowHeaders, header);
  list("exposeHeaders", cors.exposeHeaders, header);
  if (
    cors.maxAge !== undefined &&
    (!Number.isInteger(cors.maxAge) || cors.maxAge < 0 || cors.maxAge > MAX_CORS_AGE_S)
  )
    problems.push(v.problem("cors.maxAge", cors.maxAge, "range", URL_EXPECTED.maxAge));
  return problems;
}
