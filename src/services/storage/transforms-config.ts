/**
 * A bucket's image transforms setting (its `transforms` setting, JSON): whether GETs of the
 * render endpoint may resize and convert its images, how large an output may be, how large a
 * source may be, and which output formats a request may ask for. A bucket without the setting
 * has transforms off. Nimbus's own (Supabase turns them on per project); the operator sets it
 * with `PUT /nimbus/v1/storage/buckets/{bucket}/transforms`.
 */
import { invalidInput, type Problem } from "../../shared/errors.js";
import type { BucketRecord } from "./model.js";

/** The formats a transform may write (`origin` keeps the source's, and is always allowed). */
export const OUTPUT_FORMATS = ["webp", "avif", "jpeg", "png"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface TransformsConfig {
  readonly enabled: boolean;
  /** The widest output a request may ask for, in pixels. */
  readonly maxWidth: number;
  /** The tallest output a request may ask for, in pixels. */
  readonly maxHeight: number;
  /** The largest source object a transform reads; a larger one is refused before it is read. */
  readonly maxSourceBytes: number;
  /** The formats a request may name besides `origin`. */
  readonly formats: readonly OutputFormat[];
}

/** Supabase's own bound on width and height. */
export const DEFAULT_MAX_DIMENSION_PX = 2500;
export const DEFAULT_MAX_SOURCE_BYTES = 25 * 1024 * 1024;
/** WebP's largest side is 16,383; this leaves room and keeps an output under 64 megapixels. */
export const MAX_DIMENSION_PX = 8192;
/** Sources are read into memory whole to be decoded: a ceiling on what a bucket may allow. */
export const MAX_SOURCE_BYTES = 100 * 1024 * 1024;

export const DEFAULT_TRANSFORMS: TransformsConfig = Object.freeze({
  enabled: true,
  maxWidth: DEFAULT_MAX_DIMENSION_PX,
  maxHeight: DEFAULT_MAX_DIMENSION_PX,
  maxSourceBytes: DEFAULT_MAX_SOURCE_BYTES,
  formats: OUTPUT_FORMATS,
});

/** What a bucket without the setting has: the defaults, off. */
export const TRANSFORMS_OFF: TransformsConfig = Object.freeze({ ...DEFAULT_TRANSFORMS, enabled: false });

const FIELDS = ["enabled", "maxWidth", "maxHeight", "maxSourceBytes", "formats"] as const;
const LIMITS = {
  maxWidth: MAX_DIMENSION_PX,
  maxHeight: MAX_DIMENSION_PX,
  maxSourceBytes: MAX_SOURCE_BYTES,
} as const;

/**
 * The setting as a PUT's JSON body gives it, every problem listed in one `InvalidParameter`;
 * a field left out takes its default (`enabled`: true, a PUT turns transforms on).
 */
export function parseTransformsConfig(body: Record<string, unknown>): TransformsConfig {
  const problems: Problem[] = [];
  for (const key of Object.keys(body))
    if (!(FIELDS as readonly string[]).includes(key))
      problems.push({
        field: "transforms",
        value: key,
        rule: "key",
        expected: `be one of ${FIELDS.join(", ")}`,
      });
  const out: { -readonly [K in keyof TransformsConfig]: TransformsConfig[K] } = { ...DEFAULT_TRANSFORMS };
  if (body.enabled !== undefined) {
    if (typeof body.enabled !== "boolean")
      problems.push({ field: "enabled", value: body.enabled, rule: "type", expected: "be true or false" });
    else out.enabled = body.enabled;
  }
  for (const [field, max] of Object.entries(LIMITS) as [keyof typeof LIMITS, number][]) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > max)
      problems.push({ field, value, rule: "range", expected: `be an integer from 1 to ${max}` });
    else out[field] = value;
  }
  const formats = body.formats;
  if (formats !== undefined) {
    const expected = `be a list of one or more of ${OUTPUT_FORMATS.join(", ")}`;
    if (!Array.isArray(formats) || formats.length === 0 || formats.length > OUTPUT_FORMATS.length)
      problems.push({ field: "formats", value: formats, rule: "length", expected });
    else {
      formats.forEach((f: unknown, i) => {
        if (!(OUTPUT_FORMATS as readonly unknown[]).includes(f))
          problems.push({
            field: `formats.${i}`,
            value: f,
            rule: "oneOf",
            expected: `be one of ${OUTPUT_FORMATS.join(", ")}`,
          });
      });
      // In the catalogue's order, each once.
      out.formats = OUTPUT_FORMATS.filter((f) => formats.includes(f));
    }
  }
  if (problems.length > 0) throw invalidInput(problems);
  return Object.freeze(out);
}

/** The bucket's setting, with transforms off when it has none. */
export function transformsOf(b: BucketRecord): TransformsConfig {
  const text = b.settings.transforms;
  // Only `parseTransformsConfig`'s output is stored.
  return text === undefined
    ? TRANSFORMS_OFF
    : { ...DEFAULT_TRANSFORMS, ...(JSON.parse(text) as Partial<TransformsConfig>) };
}
