/**
 * A bucket's lifecycle configuration (S3's LifecycleConfiguration): checked by S3's rules and
 * kept as the bucket's `lifecycle` setting in S3's JSON form, and what its rules say about one
 * object: whether a rule's filter takes it, and when an age in days runs out. Pure: the S3
 * surface reads the XML into a `LifecycleInput`, the sweep (`lifecycle.ts`) applies the rules.
 * Nimbus has one storage class, so transitions are refused (501) rather than kept unapplied.
 */
import { randomUUID } from "node:crypto";
import { invalidArgument, malformedXml, S3Error } from "./errors.js";
import type { BucketRecord } from "./model.js";

/** S3's limits: 1,000 rules, IDs of 255 characters, 100 noncurrent versions kept. */
export const MAX_LIFECYCLE_RULES = 1000;
export const MAX_RULE_ID_CHARS = 255;
export const MAX_NEWER_NONCURRENT_VERSIONS = 100;
export const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_TAG_KEY_CHARS = 128;
const MAX_TAG_VALUE_CHARS = 256;

export interface LifecycleTag {
  readonly Key: string;
  readonly Value: string;
}

export interface LifecycleAnd {
  readonly Prefix?: string;
  readonly Tags?: readonly LifecycleTag[];
  readonly ObjectSizeGreaterThan?: number;
  readonly ObjectSizeLessThan?: number;
}

/** At most one member; none: every object. */
export interface LifecycleFilter {
  readonly Prefix?: string;
  readonly Tag?: LifecycleTag;
  readonly ObjectSizeGreaterThan?: number;
  readonly ObjectSizeLessThan?: number;
  readonly And?: LifecycleAnd;
}

/** One rule, as S3's JSON names it (the stored form); exactly one of Prefix (legacy) and Filter. */
export interface LifecycleRule {
  readonly ID: string;
  readonly Status: "Enabled" | "Disabled";
  readonly Prefix?: string;
  readonly Filter?: LifecycleFilter;
  /** One of Days, Date (ISO 8601, midnight UTC) and ExpiredObjectDeleteMarker. */
  readonly Expiration?: {
    readonly Days?: number;
    readonly Date?: string;
    readonly ExpiredObjectDeleteMarker?: boolean;
  };
  readonly NoncurrentVersionExpiration?: {
    readonly NoncurrentDays: number;
    readonly NewerNoncurrentVersions?: number;
  };
  readonly AbortIncompleteMultipartUpload?: { readonly DaysAfterInitiation: number };
}

export interface LifecycleConfiguration {
  readonly Rules: readonly LifecycleRule[];
}

type Text = string | undefined;

/** A tag as the request carried it. */
export interface TagInput {
  readonly Key: Text;
  readonly Value: Text;
}

/** A configuration as the request carried it: each value the element's text, not yet checked. */
export interface RuleInput {
  readonly ID?: Text;
  readonly Status?: Text;
  readonly Prefix?: Text;
  readonly Filter?: {
    readonly Prefix?: Text;
    readonly Tag?: TagInput | undefined;
    readonly ObjectSizeGreaterThan?: Text;
    readonly ObjectSizeLessThan?: Text;
    readonly And?:
      | {
          readonly Prefix?: Text;
          readonly Tags: readonly TagInput[];
          readonly ObjectSizeGreaterThan?: Text;
          readonly ObjectSizeLessThan?: Text;
        }
      | undefined;
  };
  readonly Expiration?: {
    readonly Days?: Text;
    readonly Date?: Text;
    readonly ExpiredObjectDeleteMarker?: Text;
  };
  readonly NoncurrentVersionExpiration?: {
    readonly NoncurrentDays?: Text;
    readonly NewerNoncurrentVersions?: Text;
  };
  readonly AbortIncompleteMultipartUpload?: { readonly DaysAfterInitiation?: Text };
  /** How many Transition and NoncurrentVersionTransition elements it has. */
  readonly transitions: number;
}

export interface LifecycleInput {
  readonly Rules: readonly RuleInput[];
}

const invalidRequest = (message: string) => new S3Error("InvalidRequest", 400, message);

/** S3's generated rule IDs: base64 of a random UUID. */
export const generatedRuleId = () => Buffer.from(randomUUID()).toString("base64");

/**
 * Checks a configuration by S3's rules and answers it as it is stored: MalformedXML for what
 * S3's schema refuses, InvalidArgument and InvalidRequest for values, as S3 words them; 501 for
 * transitions. A rule without an ID gets one.
 */
export function checkLifecycle(input: LifecycleInput, newId = generatedRuleId): LifecycleConfiguration {
  if (input.Rules.length === 0) throw malformedXml("a LifecycleConfiguration has at least one <Rule>");
  if (input.Rules.length > MAX_LIFECYCLE_RULES)
    throw invalidRequest(
      `Number of lifecycle rules should not exceed allowed limit of ${MAX_LIFECYCLE_RULES} rules (got ${input.Rules.length}).`,
    );
  const ids = new Set<string>();
  const rules = input.Rules.map((r, n) => {
    const rule = checkRule(r, n + 1, newId);
    if (ids.has(rule.ID))
      throw invalidArgument("Rule ID must be unique. Found same ID for more than one rule", "ID", rule.ID);
    ids.add(rule.ID);
    return rule;
  });
  return { Rules: rules };
}

function checkRule(r: RuleInput, n: number, newId: () => string): LifecycleRule {
  if (r.transitions > 0)
    throw new S3Error(
      "NotImplemented",
      501,
      `Lifecycle rule ${n} has a Transition: Nimbus has one storage class (STANDARD), so it does not implement lifecycle transitions; use Expiration.`,
    );
  const id = r.ID === undefined || r.ID === "" ? newId() : r.ID;
  if (id.length > MAX_RULE_ID_CHARS)
    throw invalidArgument(
      `ID length should not exceed allowed limit of ${MAX_RULE_ID_CHARS} (rule ${n} has ${id.length})`,
      "ID",
      id,
    );
  if (r.Status !== "Enabled" && r.Status !== "Disabled")
    throw malformedXml(`the <Status> of lifecycle rule ${n} is Enabled or Disabled, not "${r.Status ?? ""}"`);
  if (r.Prefix !== undefined && r.Filter !== undefined)
    throw malformedXml(`lifecycle rule ${n} has both <Prefix> and <Filter>; it takes one of them`);
  if (r.Prefix === undefined && r.Filter === undefined)
    throw malformedXml(`lifecycle rule ${n} has neither <Filter> nor <Prefix>`);
  const filter = r.Filter === undefined ? undefined : checkFilter(r.Filter, n);
  const tagged = filter?.Tag !== undefined || (filter?.And?.Tags?.length ?? 0) > 0;
  if (
    r.Expiration === undefined &&
    r.NoncurrentVersionExpiration === undefined &&
    r.AbortIncompleteMultipartUpload === undefined
  )
    throw invalidRequest("At least one action needs to be specified in a rule");
  const expiration = r.Expiration === undefined ? undefined : checkExpiration(r.Expiration, n, tagged);
  const noncurrent =
    r.NoncurrentVersionExpiration === undefined
      ? undefined
      : checkNoncurrent(r.NoncurrentVersionExpiration, n, filter !== undefined);
  let abort: LifecycleRule["AbortIncompleteMultipartUpload"];
  if (r.AbortIncompleteMultipartUpload !== undefined) {
    if (tagged) throw invalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.");
    const days = whole(r.AbortIncompleteMultipartUpload.DaysAfterInitiation, "DaysAfterInitiation", n);
    if (days === undefined)
      throw malformedXml(`<AbortIncompleteMultipartUpload> of rule ${n} has no <DaysAfterInitiation>`);
    if (days < 1)
      throw invalidArgument(
        "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
        "DaysAfterInitiation",
        String(days),
      );
    abort = { DaysAfterInitiation: days };
  }
  return {
    ID: id,
    Status: r.Status,
    ...(r.Prefix === undefined ? {} : { Prefix: r.Prefix }),
    ...(filter === undefined ? {} : { Filter: filter }),
    ...(expiration === undefined ? {} : { Expiration: expiration }),
    ...(noncurrent === undefined ? {} : { NoncurrentVersionExpiration: noncurrent }),
    ...(abort === undefined ? {} : { AbortIncompleteMultipartUpload: abort }),
  };
}

function checkExpiration(
  e: NonNullable<RuleInput["Expiration"]>,
  n: number,
  tagged: boolean,
): NonNullable<LifecycleRule["Expiration"]> {
  const marker = e.ExpiredObjectDeleteMarker;
  if (marker !== undefined) {
    if (marker !== "true" && marker !== "false")
      throw malformedXml(`<ExpiredObjectDeleteMarker> of rule ${n} is true or false, not "${marker}"`);
    if (e.Days !== undefined || e.Date !== undefined)
      throw invalidRequest(
        "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.",
      );
    if (tagged && marker === "true")
      throw invalidRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.");
    return { ExpiredObjectDeleteMarker: marker === "true" };
  }
  if (e.Days !== undefined && e.Date !== undefined)
    throw malformedXml(`the <Expiration> of rule ${n} has both <Days> and <Date>; it takes one`);
  const days = whole(e.Days, "Days", n);
  if (days !== undefined) {
    if (days < 1)
      throw invalidArgument("'Days' for Expiration action must be a positive integer", "Days", String(days));
    return { Days: days };
  }
  if (e.Date === undefined)
    throw malformedXml(
      `the <Expiration> of rule ${n} has none of <Days>, <Date> and <ExpiredObjectDeleteMarker>`,
    );
  return { Date: midnight(e.Date, n) };
}

function checkNoncurrent(
  e: NonNullable<RuleInput["NoncurrentVersionExpiration"]>,
  n: number,
  filtered: boolean,
): NonNullable<LifecycleRule["NoncurrentVersionExpiration"]> {
  const days = whole(e.NoncurrentDays, "NoncurrentDays", n);
  if (days === undefined)
    throw malformedXml(`<NoncurrentVersionExpiration> of rule ${n} has no <NoncurrentDays>`);
  if (days < 1)
    throw invalidArgument(
      "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
      "NoncurrentDays",
      String(days),
    );
  const newer = whole(e.NewerNoncurrentVersions, "NewerNoncurrentVersions", n);
  if (newer === undefined) return { NoncurrentDays: days };
  if (newer < 1 || newer > MAX_NEWER_NONCURRENT_VERSIONS)
    throw invalidArgument(
      `'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be between 1 and ${MAX_NEWER_NONCURRENT_VERSIONS}`,
      "NewerNoncurrentVersions",
      String(newer),
    );
  if (!filtered)
    throw invalidRequest(
      "A Filter must be specified when NewerNoncurrentVersions is specified for NoncurrentVersionExpiration",
    );
  return { NoncurrentDays: days, NewerNoncurrentVersions: newer };
}

function checkFilter(f: NonNullable<RuleInput["Filter"]>, n: number): LifecycleFilter {
  const present = [f.Prefix, f.Tag, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan, f.And].filter(
    (p) => p !== undefined,
  ).length;
  if (present > 1)
    throw malformedXml(
      `the <Filter> of rule ${n} has more than one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan and And; combine them in <And>`,
    );
  const sizes = checkSizes(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan, n);
  if (f.And === undefined)
    return {
      ...(f.Prefix === undefined ? {} : { Prefix: f.Prefix }),
      ...(f.Tag === undefined ? {} : { Tag: checkTags([f.Tag])[0] }),
      ...sizes,
    };
  const a = f.And;
  if (
    a.Prefix === undefined &&
    a.Tags.length === 0 &&
    a.ObjectSizeGreaterThan === undefined &&
    a.ObjectSizeLessThan === undefined
  )
    throw malformedXml(`the <And> of rule ${n} is empty`);
  return {
    And: {
      ...(a.Prefix === undefined ? {} : { Prefix: a.Prefix }),
      ...(a.Tags.length === 0 ? {} : { Tags: checkTags(a.Tags) }),
      ...checkSizes(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan, n),
    },
  };
}

function checkTags(tags: readonly TagInput[]): LifecycleTag[] {
  const keys = new Set<string>();
  return tags.map((t) => {
    const key = t.Key ?? "";
    const value = t.Value ?? "";
    if (key === "" || key.length > MAX_TAG_KEY_CHARS)
      throw invalidArgument("The TagKey you have provided is invalid", "TagKey", key);
    if (value.length > MAX_TAG_VALUE_CHARS)
      throw invalidArgument("The TagValue you have provided is invalid", "TagValue", value);
    if (keys.has(key)) throw invalidRequest("Duplicate Tag Keys are not allowed.");
    keys.add(key);
    return { Key: key, Value: value };
  });
}

function checkSizes(greater: Text, less: Text, n: number) {
  const gt = whole(greater, "ObjectSizeGreaterThan", n);
  const lt = whole(less, "ObjectSizeLessThan", n);
  if (gt !== undefined && gt < 0)
    throw invalidArgument(
      "'ObjectSizeGreaterThan' must be a non-negative integer",
      "ObjectSizeGreaterThan",
      String(gt),
    );
  if (lt !== undefined && lt < 1)
    throw invalidArgument(
      "'ObjectSizeLessThan' must be a positive integer",
      "ObjectSizeLessThan",
      String(lt),
    );
  if (gt !== undefined && lt !== undefined && gt >= lt)
    throw invalidArgument(
      `'ObjectSizeGreaterThan' (${gt}) must be less than 'ObjectSizeLessThan' (${lt})`,
      "ObjectSizeGreaterThan",
      String(gt),
    );
  return {
    ...(gt === undefined ? {} : { ObjectSizeGreaterThan: gt }),
    ...(lt === undefined ? {} : { ObjectSizeLessThan: lt }),
  };
}

/** An element's whole number (negative allowed: the caller says what it must be); absent: undefined. */
function whole(text: Text, name: string, n: number): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^-?\d{1,15}$/.test(t)) throw malformedXml(`<${name}> of rule ${n} is a whole number, not "${text}"`);
  return Number(t);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** An Expiration Date: ISO 8601, at midnight UTC; answered as S3 writes it (`…T00:00:00.000Z`). */
function midnight(text: string, n: number): string {
  const t = text.trim();
  const m = ISO_DATE.exec(t);
  const ms = m === null ? Number.NaN : Date.parse(m[4] === undefined ? `${t}T00:00:00Z` : m[7] ? t : `${t}Z`);
  if (Number.isNaN(ms)) throw malformedXml(`the <Date> of rule ${n} is not an ISO 8601 date: "${text}"`);
  if (ms % DAY_MS !== 0) throw invalidArgument("'Date' must be at midnight GMT", "Date", text);
  return new Date(ms).toISOString();
}

// What the rules say about one object.

/** What a filter is matched against: a version's key, size and tags. */
export interface LifecycleSubject {
  readonly key: string;
  readonly size: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** The rule's filter: its Filter, or its legacy Prefix as one. */
export function filterOf(rule: LifecycleRule): LifecycleFilter {
  return rule.Filter ?? { Prefix: rule.Prefix ?? "" };
}

/**
 * Whether a rule's filter takes an object: every predicate holds (key prefix, each tag, size
 * strictly between the bounds). `keyOnly` matches the prefix alone, for what has no size or
 * tags (a delete marker, a multipart upload).
 */
export function filterMatches(f: LifecycleFilter, o: LifecycleSubject, keyOnly = false): boolean {
  const and: LifecycleAnd = f.And ?? {
    ...(f.Prefix === undefined ? {} : { Prefix: f.Prefix }),
    ...(f.Tag === undefined ? {} : { Tags: [f.Tag] }),
    ...(f.ObjectSizeGreaterThan === undefined ? {} : { ObjectSizeGreaterThan: f.ObjectSizeGreaterThan }),
    ...(f.ObjectSizeLessThan === undefined ? {} : { ObjectSizeLessThan: f.ObjectSizeLessThan }),
  };
  if (!o.key.startsWith(and.Prefix ?? "")) return false;
  if (keyOnly) return true;
  if (and.ObjectSizeGreaterThan !== undefined && !(o.size > and.ObjectSizeGreaterThan)) return false;
  if (and.ObjectSizeLessThan !== undefined && !(o.size < and.ObjectSizeLessThan)) return false;
  return (and.Tags ?? []).every((t) => o.tags[t.Key] === t.Value);
}

/**
 * When an age of `days` that began at `since` runs out, as S3 counts it: `days` after `since`,
 * rounded up to the next midnight UTC (an object made at 10:30 on the 15th with 3 days goes at
 * 00:00 on the 19th).
 */
export function dueAt(since: number, days: number): number {
  return Math.ceil((since + days * DAY_MS) / DAY_MS) * DAY_MS;
}

/** The configuration a bucket keeps (its `lifecycle` setting), or undefined. */
export function lifecycleOf(b: BucketRecord): LifecycleConfiguration | undefined {
  const json = b.settings.lifecycle;
  return json === undefined ? undefined : (JSON.parse(json) as LifecycleConfiguration);
}

/** The enabled rules of a configuration. */
export function enabledRules(config: LifecycleConfiguration): LifecycleRule[] {
  return config.Rules.filter((r) => r.Status === "Enabled");
}
