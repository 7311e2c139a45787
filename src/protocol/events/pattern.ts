/**
 * EventBridge event patterns: the one matcher behind bus rules, `TestEventPattern` and event
 * source mappings' `FilterCriteria`. A pattern is a JSON object whose fields mirror the event's:
 * an object descends into the event's field of that name, an array lists the values the field
 * may have (any one matching is enough), and `$or` lists alternative patterns for the same
 * level. A value is a literal (string, number compared as a number, boolean, null) or one
 * filter: `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`,
 * `exists`, `cidr`.
 *
 * Arrays in the event: a leaf matches when any of its elements does; a field holding an array
 * of objects matches a nested pattern when one of those objects does. A field that is absent
 * matches only `{"exists": false}`.
 *
 * `compilePattern` checks the whole pattern first and says what is wrong and where; matching
 * then never throws.
 */
import { BlockList, isIP } from "node:net";

/** A pattern that is not valid; the message names the field and what is expected there. */
export class InvalidPatternError extends Error {
  override readonly name = "InvalidPatternError";
}

export type EventMatcher = (event: unknown) => boolean;

type Leaf = (value: unknown) => boolean;

/** EventBridge's bounds for numeric matching. */
const NUMERIC_LIMIT = 5e9;
const COMPARE: Record<string, (bound: number) => (n: number) => boolean> = {
  "=": (b) => (n) => n === b,
  "<": (b) => (n) => n < b,
  "<=": (b) => (n) => n <= b,
  ">": (b) => (n) => n > b,
  ">=": (b) => (n) => n >= b,
};

/** Reads a pattern (JSON text or an already parsed object) into a matcher, or throws InvalidPatternError. */
export function compilePattern(pattern: string | unknown): EventMatcher {
  let parsed: unknown = pattern;
  if (typeof pattern === "string") {
    try {
      parsed = JSON.parse(pattern);
    } catch (err) {
      throw new InvalidPatternError(`Event pattern is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!isObject(parsed)) throw new InvalidPatternError("Event pattern must be a JSON object");
  return objectMatcher(parsed, "");
}

/** Whether `event` matches `pattern` (JSON text or object); throws InvalidPatternError for a bad pattern. */
export function matchesPattern(pattern: string | unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(path: string, what: string): never {
  throw new InvalidPatternError(`Event pattern is not valid at "${path || "(top)"}": ${what}`);
}

/** A nested pattern: every field must match, and one alternative of `$or` if present. */
function objectMatcher(pattern: Record<string, unknown>, path: string): EventMatcher {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, "an empty object matches nothing; name at least one field");
  const fields: Array<(obj: Record<string, unknown>) => boolean> = [];
  for (const key of keys) {
    const value = pattern[key];
    const at = path ? `${path}.${key}` : key;
    if (key === "$or") {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject))
        fail(at, "$or takes an array of at least two patterns (objects)");
      const alternatives = value.map((v, i) => objectMatcher(v as Record<string, unknown>, `${at}[${i}]`));
      fields.push((obj) => alternatives.some((m) => m(obj)));
    } else if (isObject(value)) {
      const nested = objectMatcher(value, at);
      fields.push((obj) => {
        const v = obj[key];
        return Array.isArray(v) ? v.some((e) => nested(e)) : nested(v);
      });
    } else if (Array.isArray(value)) {
      const leaf = leafMatcher(value, at);
      fields.push((obj) => leaf(obj[key]));
    } else {
      fail(at, `expected an object (a nested pattern) or an array of values, got ${JSON.stringify(value)}`);
    }
  }
  return (event) => isObject(event) && fields.every((f) => f(event));
}

/** A field's list of accepted values: matches when any event value meets any of them. */
function leafMatcher(values: unknown[], path: string): Leaf {
  if (values.length === 0) fail(path, "an empty array matches nothing; list at least one value");
  let absent: boolean | undefined;
  const tests: Leaf[] = [];
  for (const v of values) {
    if (isObject(v) && "exists" in v) {
      if (Object.keys(v).length !== 1 || typeof v.exists !== "boolean")
        fail(path, "exists takes true or false");
      absent = absent === undefined ? !v.exists : absent;
      if (v.exists) tests.push(() => true);
      continue;
    }
    tests.push(valueMatcher(v, path));
  }
  const wantsAbsent = absent === true;
  return (field) => {
    if (field === undefined) return wantsAbsent;
    if (isObject(field)) return false; // Values match leaves only, not whole objects.
    const elements = Array.isArray(field) ? field : [field];
    return elements.some((e) => !isObject(e) && !Array.isArray(e) && tests.some((t) => t(e)));
  };
}

function valueMatcher(v: unknown, path: string): Leaf {
  if (typeof v === "string") return (e) => e === v;
  if (typeof v === "number") return (e) => typeof e === "number" && e === v;
  if (typeof v === "boolean" || v === null) return (e) => e === v;
  if (!isObject(v))
    fail(
      path,
      `a value must be a string, number, boolean, null or one filter object, got ${JSON.stringify(v)}`,
    );
  const keys = Object.keys(v);
  if (keys.length !== 1)
    fail(
      path,
      `a filter object has exactly one of prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr; got ${JSON.stringify(v)}`,
    );
  const kind = keys[0]!;
  const arg = v[kind];
  const at = `${path} ${kind}`;
  switch (kind) {
    case "prefix":
      return affixMatcher(arg, at, (s, p) => s.startsWith(p));
    case "suffix":
      return affixMatcher(arg, at, (s, p) => s.endsWith(p));
    case "equals-ignore-case": {
      const want = nonEmptyString(arg, at).toLowerCase();
      return (e) => typeof e === "string" && e.toLowerCase() === want;
    }
    case "wildcard":
      return wildcardMatcher(nonEmptyString(arg, at), at);
    case "anything-but":
      return anythingBut(arg, at);
    case "numeric":
      return numericMatcher(arg, at);
    case "cidr":
      return cidrMatcher(arg, at);
    default:
      return fail(path, `unknown filter "${kind}"`);
  }
}

function nonEmptyString(arg: unknown, path: string): string {
  if (typeof arg !== "string" || arg.length === 0) fail(path, "expects a non-empty string");
  return arg;
}

/** prefix and suffix: a string, or {"equals-ignore-case": string} to compare without case. */
function affixMatcher(arg: unknown, path: string, test: (s: string, affix: string) => boolean): Leaf {
  if (isObject(arg)) {
    if (Object.keys(arg).length !== 1 || !("equals-ignore-case" in arg))
      fail(path, 'expects a string or {"equals-ignore-case": string}');
    const affix = nonEmptyString(arg["equals-ignore-case"], path).toLowerCase();
    return (e) => typeof e === "string" && test(e.toLowerCase(), affix);
  }
  const affix = nonEmptyString(arg, path);
  return (e) => typeof e === "string" && test(e, affix);
}

function wildcardMatcher(glob: string, path: string): Leaf {
  if (glob.includes("**")) fail(path, "consecutive wildcard characters (**) are not allowed");
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  const re = new RegExp(`^${source}$`, "s");
  return (e) => typeof e === "string" && re.test(e);
}

/** anything-but: a value or list of strings or numbers, or one of prefix, suffix, equals-ignore-case, wildcard. */
function anythingBut(arg: unknown, path: string): Leaf {
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    const kind = keys[0];
    if (keys.length !== 1 || !["prefix", "suffix", "equals-ignore-case", "wildcard"].includes(kind!))
      fail(path, "expects a value, a list, or one of prefix, suffix, equals-ignore-case, wildcard");
    const inner = arg[kind!];
    const list = Array.isArray(inner) ? inner : [inner];
    if (list.length === 0) fail(path, `${kind} expects a string or a non-empty list of strings`);
    const excluded = list.map((s) => valueMatcher({ [kind!]: s }, path));
    return (e) => typeof e === "string" && !excluded.some((m) => m(e));
  }
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0) fail(path, "expects a value or a non-empty list");
  for (const x of list)
    if (typeof x !== "string" && typeof x !== "number")
      fail(path, `lists strings or numbers, got ${JSON.stringify(x)}`);
  return (e) => (typeof e === "string" || typeof e === "number") && !list.includes(e);
}

/** numeric: one comparison, or a lower and an upper bound: [">", 0, "<=", 5]. */
function numericMatcher(arg: unknown, path: string): Leaf {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4))
    fail(path, 'expects one or two comparisons, such as [">", 0] or [">=", 0, "<", 10]');
  const checks: Array<(n: number) => boolean> = [];
  let lower = 0;
  let upper = 0;
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof op !== "string" || !Object.hasOwn(COMPARE, op))
      fail(path, `${JSON.stringify(op)} is not one of =, <, <=, >, >=`);
    if (typeof bound !== "number" || !Number.isFinite(bound) || Math.abs(bound) > NUMERIC_LIMIT)
      fail(path, `${JSON.stringify(bound)} is not a number between -5e9 and 5e9`);
    checks.push(COMPARE[op]!(bound));
    if (op.startsWith("<")) upper++;
    else if (op.startsWith(">")) lower++;
  }
  if (arg.length === 4 && (lower !== 1 || upper !== 1))
    fail(path, "two comparisons must be a lower bound (> or >=) and an upper bound (< or <=)");
  return (e) => typeof e === "number" && checks.every((c) => c(e));
}

function cidrMatcher(arg: unknown, path: string): Leaf {
  const text = nonEmptyString(arg, path);
  const [address, bits] = text.split("/");
  const family = isIP(address ?? "");
  const prefix = Number(bits);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || bits === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max)
    fail(path, `${JSON.stringify(text)} is not an IPv4 or IPv6 CIDR block such as "10.0.0.0/24"`);
  const type = family === 6 ? "ipv6" : "ipv4";
  const block = new BlockList();
  block.addSubnet(address!, prefix, type);
  return (e) => typeof e === "string" && isIP(e) === family && block.check(e, type);
}
