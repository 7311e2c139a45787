/**
 * The domain's rules for the registry's inputs. Each check returns the problems it finds (no
 * message format of any surface): `report` throws them all at once as an `InvalidParameter`
 * error, so a caller learns everything wrong with its input in one answer. Surfaces that check
 * the shape of their own requests describe a wrong type with the same `EXPECTED` phrase.
 */
import { RESERVED_ENV_KEYS, runtimeKind } from "../../protocol/function.js";
import {
  MAX_DESCRIPTION_LENGTH,
  MAX_ENV_BYTES,
  MAX_EPHEMERAL_STORAGE_MB,
  MAX_FUNCTION_NAME_LENGTH,
  MAX_HANDLER_LENGTH,
  MAX_MEMORY_MB,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_TAGS_PER_FUNCTION,
  MAX_TIMEOUT_S,
  MIN_EPHEMERAL_STORAGE_MB,
  MIN_MEMORY_MB,
  MIN_TIMEOUT_S,
} from "../../protocol/limits.js";
import { invalidInput, type Problem, type ProblemRule } from "../../shared/errors.js";
import type { Architecture } from "./spec.js";

const NAME = /^[a-zA-Z0-9-_]+$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9-_]+)$/;
const ALIAS = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])*$/;
const VERSION_NUMBER = /^\d+$/;
/** Lambda's pattern for tag keys and values: letters, digits, spaces and `_ . : / = + - @`. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_QUALIFIER_LENGTH = 128;

/** The architecture of this platform's workers: the only one a function may ask for. */
export const HOST_ARCHITECTURE: Architecture = process.arch === "arm64" ? "arm64" : "x86_64";

/** What each rule expects, completing "must …". */
export const EXPECTED = {
  functionName: `be 1 to ${MAX_FUNCTION_NAME_LENGTH} characters of letters, digits, hyphens and underscores`,
  qualifier: "satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
  aliasName: "be letters, digits, hyphens and underscores, and not only digits",
  functionVersion: "be $LATEST or a version number",
  runtime: "be nodejs20.x or a newer nodejsNN.x, or provided, provided.al2, provided.al2023",
  handler: `be 1 to ${MAX_HANDLER_LENGTH} characters without whitespace, e.g. index.handler`,
  memoryMb: `be an integer from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} (MB)`,
  timeoutS: `be an integer from ${MIN_TIMEOUT_S} to ${MAX_TIMEOUT_S} (seconds)`,
  ephemeralStorageMb: `be an integer from ${MIN_EPHEMERAL_STORAGE_MB} to ${MAX_EPHEMERAL_STORAGE_MB} (MB)`,
  description: `be a string of at most ${MAX_DESCRIPTION_LENGTH} characters`,
  environmentKey: "start with a letter and hold only letters, digits and underscores",
  environmentReserved: "not set the variables the platform sets",
  environmentSize: `be at most ${MAX_ENV_BYTES} bytes, keys and values together`,
  architecture: `be ["${HOST_ARCHITECTURE}"], the architecture of this platform's workers`,
  reservedConcurrency: "be an integer greater than or equal to 0",
  weight: "be a number from 0.0 to 1.0",
  weights: "have at most 1 entry",
  weightKey: "be published version numbers",
  tagKey: `be 1 to ${MAX_TAG_KEY_LENGTH} letters, digits, spaces and _ . : / = + - @`,
  tagValue: `be 0 to ${MAX_TAG_VALUE_LENGTH} letters, digits, spaces and _ . : / = + - @`,
  tagReserved: "not start with aws:, a prefix reserved for AWS",
  tagCount: `be at most ${MAX_TAGS_PER_FUNCTION} tags per function`,
} as const;

export function problem(field: string, value: unknown, rule: ProblemRule, expected: string): Problem {
  return { field, value, rule, expected };
}

type Found = Problem | readonly Problem[] | undefined;

/** Throws every problem found as one `InvalidParameter` error; returns when there is none. */
export function report(...found: Found[]): void {
  const problems = found.flatMap((f) => (f === undefined ? [] : Array.isArray(f) ? f : [f as Problem]));
  if (problems.length > 0) throw invalidInput(problems);
}

/** One problem, thrown: for a rule checked on its own. */
export function invalid(field: string, value: unknown, expected: string, rule: ProblemRule = "range") {
  return invalidInput([problem(field, value, rule, expected)]);
}

export function functionName(name: string, field = "functionName"): Problem | undefined {
  return name.length === 0 || name.length > MAX_FUNCTION_NAME_LENGTH || !NAME.test(name)
    ? problem(field, name, "pattern", EXPECTED.functionName)
    : undefined;
}

/** A version number, `$LATEST` or an alias name. */
export function qualifier(q: string, field = "qualifier"): Problem | undefined {
  return q.length === 0 || q.length > MAX_QUALIFIER_LENGTH || !QUALIFIER.test(q)
    ? problem(field, q, "pattern", EXPECTED.qualifier)
    : undefined;
}

export function aliasName(name: string): Problem | undefined {
  return name.length === 0 || name.length > MAX_QUALIFIER_LENGTH || !ALIAS.test(name)
    ? problem("name", name, "pattern", EXPECTED.aliasName)
    : undefined;
}

/** What an alias points to: `$LATEST` or a published version. */
export function functionVersion(v: string): Problem | undefined {
  return v === "$LATEST" || VERSION_NUMBER.test(v)
    ? undefined
    : problem("functionVersion", v, "pattern", EXPECTED.functionVersion);
}

export function isVersionNumber(q: string): boolean {
  return VERSION_NUMBER.test(q);
}

export function runtime(v: string | undefined): Problem | undefined {
  return v === undefined || !runtimeKind(v) ? problem("runtime", v, "oneOf", EXPECTED.runtime) : undefined;
}

export function handler(v: string | undefined): Problem | undefined {
  if (v === undefined) return problem("handler", v, "required", EXPECTED.handler);
  return v.length === 0 || v.length > MAX_HANDLER_LENGTH || /\s/.test(v)
    ? problem("handler", v, "pattern", EXPECTED.handler)
    : undefined;
}

function integerIn(field: string, v: number, min: number, max: number, expected: string) {
  return !Number.isInteger(v) || v < min || v > max ? problem(field, v, "range", expected) : undefined;
}

export function memoryMb(v: number): Problem | undefined {
  return integerIn("memoryMb", v, MIN_MEMORY_MB, MAX_MEMORY_MB, EXPECTED.memoryMb);
}

export function timeoutS(v: number): Problem | undefined {
  return integerIn("timeoutS", v, MIN_TIMEOUT_S, MAX_TIMEOUT_S, EXPECTED.timeoutS);
}

export function ephemeralStorageMb(v: number): Problem | undefined {
  const [min, max] = [MIN_EPHEMERAL_STORAGE_MB, MAX_EPHEMERAL_STORAGE_MB];
  return integerIn("ephemeralStorageMb", v, min, max, EXPECTED.ephemeralStorageMb);
}

export function description(v: string): Problem | undefined {
  return v.length > MAX_DESCRIPTION_LENGTH
    ? problem("description", v, "length", EXPECTED.description)
    : undefined;
}

export function architecture(v: Architecture): Problem | undefined {
  return v === HOST_ARCHITECTURE ? undefined : problem("architecture", v, "oneOf", EXPECTED.architecture);
}

export function reservedConcurrency(v: number): Problem | undefined {
  return !Number.isInteger(v) || v < 0
    ? problem("reservedConcurrency", v, "range", EXPECTED.reservedConcurrency)
    : undefined;
}

/** Keys' shape, keys the platform sets, and the size of the whole (keys and values). */
export function environment(vars: Readonly<Record<string, string>>): Problem[] {
  const found: Problem[] = [];
  const reserved: string[] = [];
  let bytes = 0;
  for (const [k, val] of Object.entries(vars)) {
    if (!ENV_KEY.test(k)) found.push(problem("environment", k, "key", EXPECTED.environmentKey));
    if ((RESERVED_ENV_KEYS as readonly string[]).includes(k)) reserved.push(k);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(val);
  }
  if (reserved.length > 0)
    found.push(problem("environment", reserved, "reserved", EXPECTED.environmentReserved));
  if (bytes > MAX_ENV_BYTES) found.push(problem("environment", bytes, "size", EXPECTED.environmentSize));
  return found;
}

/** An alias's weighted routing: at most one version, by number, weight 0.0 to 1.0. */
export function routingWeights(weights: Readonly<Record<string, number>>): Problem[] {
  const field = "additionalVersionWeights";
  const entries = Object.entries(weights);
  if (entries.length > 1) return [problem(field, weights, "entries", EXPECTED.weights)];
  const found: Problem[] = [];
  for (const [ver, w] of entries) {
    if (!(w >= 0 && w <= 1)) found.push(problem(`${field}.${ver}`, w, "range", EXPECTED.weight));
    if (!VERSION_NUMBER.test(ver)) found.push(problem(field, ver, "key", EXPECTED.weightKey));
  }
  return found;
}

/** Tags a caller sets: each key's and value's shape, and keys under the reserved `aws:` prefix. */
export function tags(t: Readonly<Record<string, string>>): Problem[] {
  const found: Problem[] = [];
  const reserved: string[] = [];
  for (const [k, val] of Object.entries(t)) {
    if (k.length === 0 || k.length > MAX_TAG_KEY_LENGTH || !TAG_TEXT.test(k))
      found.push(problem("tags", k, "key", EXPECTED.tagKey));
    else if (k.toLowerCase().startsWith("aws:")) reserved.push(k);
    if (val.length > MAX_TAG_VALUE_LENGTH || !TAG_TEXT.test(val))
      found.push(problem(`tags.${k}`, val, "length", EXPECTED.tagValue));
  }
  if (reserved.length > 0) found.push(problem("tags", reserved, "reserved", EXPECTED.tagReserved));
  return found;
}

/** How many tags a function holds once a change applies. */
export function tagCount(t: Readonly<Record<string, string>>): Problem | undefined {
  const n = Object.keys(t).length;
  return n > MAX_TAGS_PER_FUNCTION ? problem("tags", n, "entries", EXPECTED.tagCount) : undefined;
}
