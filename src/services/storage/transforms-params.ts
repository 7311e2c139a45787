/**
 * A render request's parameters, as Supabase Storage's render endpoint takes them in its query
 * (`@supabase/storage-js` writes them from `transform`): `width`, `height`, `resize` (`cover`,
 * `contain`, `fill`), `quality` (20–100) and `format` (`origin` or an output format), held to
 * the bucket's limits. Other query parameters (`download`, a cache buster) are not the
 * transform's. The parameters in one canonical order key the cache of variants.
 */
import { invalidArgument } from "./errors.js";
import { OUTPUT_FORMATS, type OutputFormat, type TransformsConfig } from "./transforms-config.js";

export const RESIZE_MODES = ["cover", "contain", "fill"] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export const MIN_QUALITY = 20;
export const MAX_QUALITY = 100;
export const DEFAULT_QUALITY = 80;

export interface TransformParams {
  /** Undefined: from the height and the source's aspect (or the source's own, without a height). */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** `cover` crops to fill width × height; `contain` fits within them; `fill` stretches to them. */
  readonly resize: ResizeMode;
  readonly quality: number;
  /** `origin`: the source's own format. */
  readonly format: OutputFormat | "origin";
}

/** The transform a query asks for; throws 400 `InvalidArgument` naming the parameter and what it takes. */
export function parseTransformParams(
  query: URLSearchParams,
  limits: Pick<TransformsConfig, "maxWidth" | "maxHeight" | "formats">,
): TransformParams {
  const width = dimension(query, "width", limits.maxWidth, "maxWidth");
  const height = dimension(query, "height", limits.maxHeight, "maxHeight");
  const resize = query.get("resize") ?? "cover";
  if (!(RESIZE_MODES as readonly string[]).includes(resize))
    throw invalidArgument(
      `resize is ${JSON.stringify(resize)}: expected one of ${RESIZE_MODES.join(", ")}`,
      "resize",
      resize,
    );
  const quality = integer(query, "quality", MIN_QUALITY, MAX_QUALITY, "") ?? DEFAULT_QUALITY;
  const format = query.get("format") ?? "origin";
  const allowed = ["origin", ...limits.formats];
  if (!allowed.includes(format)) {
    const known = format === "origin" || (OUTPUT_FORMATS as readonly string[]).includes(format);
    throw invalidArgument(
      `format is ${JSON.stringify(format)}: expected one of ${allowed.join(", ")}${known ? " (this bucket's formats)" : ""}`,
      "format",
      format,
    );
  }
  return {
    width,
    height,
    resize: resize as ResizeMode,
    quality,
    format: format as TransformParams["format"],
  };
}

/** The parameters in one order, every default filled in: equal transforms give equal text. */
export function canonicalParams(p: TransformParams): string {
  return `w=${p.width ?? ""}&h=${p.height ?? ""}&r=${p.resize}&q=${p.quality}&f=${p.format}`;
}

function dimension(query: URLSearchParams, name: string, max: number, setting: string): number | undefined {
  return integer(query, name, 1, max, ` (this bucket's ${setting})`);
}

function integer(
  query: URLSearchParams,
  name: string,
  min: number,
  max: number,
  why: string,
): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max))
    throw invalidArgument(
      `${name} is ${JSON.stringify(raw)}: expected an integer from ${min} to ${max}${why}`,
      name,
      raw,
    );
  return n;
}
