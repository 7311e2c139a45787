/**
 * The policy of a browser form upload (S3's POST Object, `post-object.ts`): the base64 JSON
 * document a form carries in its `policy` field, read as S3 reads it, and evaluated against the
 * form as S3 evaluates it. `{"field": "value"}` and `["eq", "$field", "value"]` match exactly,
 * `["starts-with", "$field", "prefix"]` by prefix (`""`: anything; each of a comma-separated
 * Content-Type), `["content-length-range", min, max]` bounds the file's size. Field names compare
 * without case; `$bucket` is the bucket posted to and `$key` the key written (`${filename}`
 * replaced). Every field of the form but `policy`, `x-amz-signature`, `file` and `x-ignore-*`
 * must be named by a condition.
 */
import { accessDenied, S3Error } from "../../../services/storage/errors.js";

/** One condition, its field lower-case without the `$`; `text` is how S3's messages quote it. */
export type PolicyCondition =
  | {
      readonly op: "eq" | "starts-with";
      readonly field: string;
      readonly value: string;
      readonly text: string;
    }
  | { readonly op: "content-length-range"; readonly min: number; readonly max: number };

export interface PostPolicy {
  /** Epoch ms. */
  readonly expiration: number;
  readonly conditions: readonly PolicyCondition[];
}

/** The file's size a policy allows, in bytes, both ends included. */
export interface LengthRange {
  readonly min: number;
  readonly max: number;
}

/** A form field as sent: its name (any case) and value. */
export interface FormField {
  readonly name: string;
  readonly value: string;
}

/** The form as a policy sees it. */
export interface PolicyForm {
  /** The fields before the file, by lower-case name. */
  readonly fields: ReadonlyMap<string, FormField>;
  /** The bucket posted to (what `$bucket` is, whatever a `bucket` field says). */
  readonly bucket: string;
  /** The key written: the `key` field with `${filename}` replaced. */
  readonly key: string;
}

/** Fields no condition needs to name. */
const EXEMPT: ReadonlySet<string> = new Set(["policy", "x-amz-signature", "file"]);
/** `2026-11-24T12:00:00Z`, with or without fractions of a second. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const invalidPolicy = (why: string) => new S3Error("InvalidPolicyDocument", 400, `Invalid Policy: ${why}`);
const notByPolicy = (why: string) => accessDenied(`Invalid according to Policy: ${why}`);

/** The policy field's document, checked: S3's InvalidPolicyDocument says what is wrong. */
export function parsePostPolicy(base64: string): PostPolicy {
  const compact = base64.replace(/\s+/g, "");
  if (!BASE64.test(compact)) throw invalidPolicy("the policy field is not base64.");
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(compact, "base64").toString("utf8"));
  } catch {
    throw invalidPolicy("Invalid JSON.");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw invalidPolicy("Invalid JSON.");
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (expiration === undefined) throw invalidPolicy("Policy missing expiration.");
  const expiresAt =
    typeof expiration === "string" && ISO_TIME.test(expiration) ? Date.parse(expiration) : NaN;
  if (Number.isNaN(expiresAt))
    throw invalidPolicy(
      `Invalid 'expiration' value: ${JSON.stringify(expiration)}; expected an ISO 8601 time in UTC such as "2026-11-24T12:00:00Z".`,
    );
  if (conditions === undefined) throw invalidPolicy("Policy missing conditions.");
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: it must be a list.");
  return { expiration: expiresAt, conditions: conditions.map(parseCondition) };
}

function parseCondition(c: unknown): PolicyCondition {
  if (typeof c === "object" && c !== null && !Array.isArray(c)) {
    const entries = Object.entries(c);
    if (entries.length !== 1)
      throw invalidPolicy(
        "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
      );
    const [name, value] = entries[0]!;
    if (typeof value !== "string")
      throw invalidPolicy(`Invalid Simple-Condition: the value of ${JSON.stringify(name)} must be a string.`);
    return matching("eq", `$${name}`, value);
  }
  if (!Array.isArray(c) || typeof c[0] !== "string")
    throw invalidPolicy(
      `Invalid Condition: ${JSON.stringify(c)}; a condition is {"field": "value"} or a list that starts with its operation.`,
    );
  const op = c[0].toLowerCase();
  if (c.length !== 3)
    throw invalidPolicy(`Invalid Condition: ${JSON.stringify(c)} must have 3 elements, it has ${c.length}.`);
  if (op === "content-length-range") {
    const [min, max] = [bound(c[1]), bound(c[2])];
    if (min === undefined || max === undefined || min > max)
      throw invalidPolicy(
        `Invalid content-length-range: ${JSON.stringify(c)}; expected two whole numbers of bytes, the first no larger than the second.`,
      );
    return { op, min, max };
  }
  if (op !== "eq" && op !== "starts-with")
    throw invalidPolicy(
      `Invalid Condition: unknown operation ${JSON.stringify(c[0])}; expected eq, starts-with or content-length-range.`,
    );
  const [, field, value] = c;
  if (typeof field !== "string" || !field.startsWith("$") || field.length < 2 || typeof value !== "string")
    throw invalidPolicy(
      `Invalid Condition: ${JSON.stringify(c)}; expected ["${op}", "$field", "value"] with strings.`,
    );
  return matching(op, field, value);
}

function matching(op: "eq" | "starts-with", field: string, value: string): PolicyCondition {
  return {
    op,
    field: field.slice(1).toLowerCase(),
    value,
    text: `[${[op, field, value].map((s) => JSON.stringify(s)).join(", ")}]`,
  };
}

/** A content-length-range bound: a whole number of bytes, as a number or a string of digits. */
function bound(v: unknown): number | undefined {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Checks the form against the policy at `nowMs`: AccessDenied "Invalid according to Policy: …"
 * for an expired policy, the first condition that fails, or fields no condition names. The size
 * the file must have, when the policy bounds it (several ranges: what they all allow).
 */
export function evaluatePostPolicy(
  policy: PostPolicy,
  form: PolicyForm,
  nowMs: number,
): LengthRange | undefined {
  if (nowMs >= policy.expiration) throw notByPolicy("Policy expired.");
  let range: LengthRange | undefined;
  const named = new Set<string>();
  for (const c of policy.conditions) {
    if (c.op === "content-length-range") {
      range = { min: Math.max(range?.min ?? 0, c.min), max: Math.min(range?.max ?? c.max, c.max) };
      continue;
    }
    named.add(c.field);
    if (!holds(c, fieldValue(form, c.field))) throw notByPolicy(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...form.fields]
    .filter(([name]) => !EXEMPT.has(name) && !name.startsWith("x-ignore-") && !named.has(name))
    .map(([, f]) => f.name);
  if (extra.length > 0) throw notByPolicy(`Extra input fields: ${extra.join(", ")}`);
  return range;
}

/** A field's value for a condition; a field the form does not have is "". */
function fieldValue(form: PolicyForm, field: string): string {
  if (field === "bucket") return form.bucket;
  if (field === "key") return form.key;
  return form.fields.get(field)?.value ?? "";
}

function holds(c: Extract<PolicyCondition, { op: "eq" | "starts-with" }>, value: string): boolean {
  if (c.op === "eq") return value === c.value;
  // Content-Type may list several types; each must start with the prefix.
  if (c.field === "content-type") return value.split(",").every((t) => t.trim().startsWith(c.value));
  return value.startsWith(c.value);
}
