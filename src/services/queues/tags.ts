/** A queue's tags, bounded as SQS bounds them: at most 50, keys 1 to 128 characters, values up to 256. */
import { invalidParameter } from "./errors.js";

const MAX_TAGS = 50;

export function checkTags(given: unknown): Record<string, string> {
  if (given === undefined || given === null) return {};
  if (typeof given !== "object" || Array.isArray(given))
    throw invalidParameter("Tags must be a map of keys to values.");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
    if (k.length === 0 || k.length > 128)
      throw invalidParameter(`Tag key ${JSON.stringify(k)} must be 1 to 128 characters.`);
    if (typeof v !== "string" || v.length > 256)
      throw invalidParameter(
        `The value of tag ${JSON.stringify(k)} must be a string of up to 256 characters.`,
      );
    out[k] = v;
  }
  if (Object.keys(out).length > MAX_TAGS)
    throw invalidParameter(`A queue can have at most ${MAX_TAGS} tags.`);
  return out;
}

export function untag(tags: Readonly<Record<string, string>>, keys: unknown): Record<string, string> {
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === "string"))
    throw invalidParameter("TagKeys must be a non-empty list of tag keys.");
  const out = { ...tags };
  for (const k of keys as string[]) delete out[k];
  return out;
}
