/**
 * A policy document checked and compiled: every problem is listed at once, each naming the
 * statement (`Statement[1] ("own-folder")`) and the field, with the value and what is expected.
 * The document is S3's bucket policy language, kept small: what Nimbus does not evaluate
 * (`NotPrincipal`, AWS principals, `ForAnyValue:`, numeric and date operators) is refused by
 * name rather than ignored, so that a policy never means less than its author thinks.
 */
import {
  CONDITION_OPERATORS,
  type ConditionOperator,
  type ConditionTest,
  type Effect,
  type Matcher,
  type Policy,
  type PrincipalName,
  type Principals,
  type Statement,
} from "./model.js";
import { compilePattern, matches, type Pattern } from "./patterns.js";

export const POLICY_VERSION = "2012-10-17";

/** The condition keys every policy may test: the caller's claims. */
export const AUTH_CONDITION_KEYS = [
  "auth:sub",
  "auth:email",
  "auth:role",
  "auth:aal",
  "auth:anonymous",
] as const;

/** What the service using the engine allows in its documents. */
export interface PolicyRules {
  /** The actions it grants: a pattern that matches none of them is a problem. */
  readonly actions?: readonly string[];
  /** What is wrong with a resource pattern (not one of this bucket's), or undefined. */
  readonly resource?: (pattern: string) => string | undefined;
  /** Its own condition keys (`s3:prefix`), besides the `auth:` ones; undefined: any. */
  readonly conditionKeys?: readonly string[];
}

export type Parsed =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly problems: readonly string[] };

const TOP_FIELDS = ["Version", "Id", "Statement"];
const STATEMENT_FIELDS = [
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
];
const PRINCIPAL_HINT = `"*", or {"Nimbus": ["authenticated", "anonymous", "user:<id>", "role:<role>"]}`;

/** The document (JSON text, or already parsed), checked against `rules` and compiled. */
export function parsePolicy(document: unknown, rules: PolicyRules = {}): Parsed {
  const problems: string[] = [];
  let doc = document;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch (err) {
      return { ok: false, problems: [`the policy is not JSON: ${(err as Error).message}`] };
    }
  }
  if (!isObject(doc)) return { ok: false, problems: ["the policy must be a JSON object"] };
  for (const field of Object.keys(doc))
    if (!TOP_FIELDS.includes(field))
      problems.push(`${field}: unknown field; a policy has ${TOP_FIELDS.join(", ")}`);
  if (doc.Version !== POLICY_VERSION)
    problems.push(
      `Version: must be "${POLICY_VERSION}" (the version whose policies have variables), got ${show(doc.Version)}`,
    );
  if (doc.Id !== undefined && typeof doc.Id !== "string")
    problems.push(`Id: must be a string, got ${show(doc.Id)}`);
  const raw = Array.isArray(doc.Statement)
    ? doc.Statement
    : doc.Statement === undefined
      ? []
      : [doc.Statement];
  if (raw.length === 0) problems.push("Statement: a policy needs at least one statement");
  const statements: Statement[] = [];
  const sids = new Set<string>();
  for (const [index, s] of raw.entries()) {
    const statement = parseStatement(s, index, rules, problems);
    if (statement?.sid !== undefined) {
      if (sids.has(statement.sid))
        problems.push(`${labelOf(index, statement.sid)}.Sid: another statement has it; Sids must be unique`);
      sids.add(statement.sid);
    }
    if (statement) statements.push(statement);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, policy: { statements } };
}

/** `Statement[1] ("own-folder")`, as problems name a statement. */
export function labelOf(index: number, sid: string | undefined): string {
  return sid === undefined ? `Statement[${index}]` : `Statement[${index}] (${JSON.stringify(sid)})`;
}

function parseStatement(
  s: unknown,
  index: number,
  rules: PolicyRules,
  problems: string[],
): Statement | undefined {
  if (!isObject(s)) {
    problems.push(`Statement[${index}]: must be an object, got ${show(s)}`);
    return undefined;
  }
  const sid = typeof s.Sid === "string" && s.Sid !== "" ? s.Sid : undefined;
  const at = labelOf(index, sid);
  const before = problems.length;
  const problem = (field: string, text: string) => problems.push(`${at}.${field}: ${text}`);
  for (const field of Object.keys(s))
    if (!STATEMENT_FIELDS.includes(field))
      problem(
        field,
        `unknown field; a statement has ${STATEMENT_FIELDS.filter((f) => f !== "NotPrincipal").join(", ")}`,
      );
  if (s.Sid !== undefined && sid === undefined)
    problem("Sid", `must be a non-empty string, got ${show(s.Sid)}`);
  if (s.Effect !== "Allow" && s.Effect !== "Deny")
    problem("Effect", `must be "Allow" or "Deny", got ${show(s.Effect)}`);
  if (s.NotPrincipal !== undefined)
    problem(
      "NotPrincipal",
      `is not supported: name who the statement is for in Principal (${PRINCIPAL_HINT})`,
    );
  const principals = parsePrincipal(s.Principal, problem);
  const actions = parseMatcher(s, "Action", problem, (value, field) =>
    parseAction(value, field, rules, problem),
  );
  const resources = parseMatcher(s, "Resource", problem, (value, field) => {
    const p = compilePattern(value, { wildcards: true, variables: true });
    if ("problem" in p) return void problem(field, p.problem);
    const wrong = rules.resource?.(value);
    if (wrong !== undefined) return void problem(field, wrong);
    return p;
  });
  const conditions = parseConditions(s.Condition, rules, problem);
  if (problems.length > before || !principals || !actions || !resources || !conditions) return undefined;
  return { index, sid, effect: s.Effect as Effect, principals, actions, resources, conditions };
}

type Problem = (field: string, text: string) => void;

function parsePrincipal(value: unknown, problem: Problem): Principals | undefined {
  if (value === "*") return { everyone: true };
  if (value === undefined) return void problem("Principal", `is required: ${PRINCIPAL_HINT}`);
  if (!isObject(value) || Object.keys(value).length === 0)
    return void problem("Principal", `must be ${PRINCIPAL_HINT}, got ${show(value)}`);
  let everyone = false;
  const names: PrincipalName[] = [];
  for (const [kind, given] of Object.entries(value)) {
    if (kind === "AWS" && (given === "*" || (Array.isArray(given) && given.length === 1 && given[0] === "*")))
      everyone = true;
    else if (kind === "Nimbus") {
      const list = typeof given === "string" ? [given] : given;
      if (!Array.isArray(list) || list.length === 0) {
        problem("Principal.Nimbus", `must be a name or a non-empty list of them, got ${show(given)}`);
        continue;
      }
      for (const [n, entry] of list.entries()) {
        const name = parsePrincipalName(entry);
        if (name) names.push(name);
        else
          problem(
            `Principal.Nimbus[${n}]`,
            `${show(entry)} is not a principal: name "authenticated", "anonymous", "user:<id>" or "role:<role>" (for everyone, "Principal": "*")`,
          );
      }
    } else
      problem(
        `Principal.${kind}`,
        `Nimbus has no ${kind === "AWS" ? "AWS accounts or IAM users" : `${kind} principals`}: ${PRINCIPAL_HINT}`,
      );
  }
  if (!everyone && names.length === 0) return undefined;
  return everyone ? { everyone: true } : { everyone: false, names };
}

function parsePrincipalName(entry: unknown): PrincipalName | undefined {
  if (entry === "authenticated" || entry === "anonymous") return { kind: entry };
  if (typeof entry !== "string") return undefined;
  const m = /^(user|role):(.+)$/.exec(entry);
  if (!m) return undefined;
  return m[1] === "user" ? { kind: "user", id: m[2]! } : { kind: "role", role: m[2]! };
}

/** `Action` or `NotAction` (`Resource` or `NotResource`): exactly one, a string or a non-empty list. */
function parseMatcher(
  s: Record<string, unknown>,
  field: "Action" | "Resource",
  problem: Problem,
  compile: (value: string, field: string) => Pattern | undefined,
): Matcher | undefined {
  const not = `Not${field}`;
  if (s[field] !== undefined && s[not] !== undefined)
    return void problem(field, `a statement has ${field} or ${not}, not both`);
  const name = s[not] === undefined ? field : not;
  const value = s[name];
  if (value === undefined) return void problem(field, `is required (or ${not})`);
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== "string" || v === ""))
    return void problem(name, `must be a non-empty string or a non-empty list of them, got ${show(value)}`);
  const patterns: Pattern[] = [];
  let ok = true;
  for (const [n, v] of (list as string[]).entries()) {
    const p = compile(v, list === value ? `${name}[${n}]` : name);
    if (p) patterns.push(p);
    else ok = false;
  }
  return ok ? { not: name === not, patterns } : undefined;
}

function parseAction(
  value: string,
  field: string,
  rules: PolicyRules,
  problem: Problem,
): Pattern | undefined {
  if (value !== "*" && !/^[a-z0-9-]+:[A-Za-z0-9*?]+$/i.test(value))
    return void problem(
      field,
      `${show(value)} is not an action: write "<service>:<Action>", such as "s3:GetObject" ("*" wildcards allowed)`,
    );
  const p = compilePattern(value, { wildcards: true, variables: false });
  if ("problem" in p) return void problem(field, p.problem);
  const known = rules.actions;
  // Actions hold no variables: no caller is needed to match one.
  if (known && !known.some((a) => matches(p, a, () => undefined, true)))
    return void problem(
      field,
      `${show(value)} names no action Nimbus grants here; the actions are ${known.join(", ")}`,
    );
  return p;
}

function parseConditions(value: unknown, rules: PolicyRules, problem: Problem): ConditionTest[] | undefined {
  if (value === undefined) return [];
  if (!isObject(value))
    return void problem("Condition", `must be an object of operators, got ${show(value)}`);
  const keys = [...AUTH_CONDITION_KEYS, ...(rules.conditionKeys ?? [])];
  const tests: ConditionTest[] = [];
  let ok = true;
  for (const [written, byKey] of Object.entries(value)) {
    const at = `Condition.${written}`;
    const ifExists = written.endsWith("IfExists");
    const operator = (ifExists ? written.slice(0, -"IfExists".length) : written) as ConditionOperator;
    if (!CONDITION_OPERATORS.includes(operator) || (ifExists && operator === "Null")) {
      problem(
        at,
        `unknown or unsupported condition operator; the operators are ${CONDITION_OPERATORS.join(", ")} (each but Null also …IfExists)`,
      );
      ok = false;
      continue;
    }
    if (!isObject(byKey) || Object.keys(byKey).length === 0) {
      problem(at, `must be an object of condition keys and values, got ${show(byKey)}`);
      ok = false;
      continue;
    }
    for (const [rawKey, given] of Object.entries(byKey)) {
      const key = rawKey.toLowerCase();
      const field = `${at}.${rawKey}`;
      // Without rules, a service's own keys are whatever it sets; the caller's are always these.
      const known = rules.conditionKeys === undefined && !key.startsWith("auth:") ? true : keys.includes(key);
      if (!known) {
        problem(field, `unknown condition key; the keys are ${keys.join(", ")}`);
        ok = false;
        continue;
      }
      const list = Array.isArray(given) ? given : [given];
      const values = conditionValues(operator, list, field, problem);
      if (values === undefined || list.length === 0) {
        if (list.length === 0) problem(field, "needs at least one value");
        ok = false;
        continue;
      }
      tests.push({ written, operator, ifExists, key, values });
    }
  }
  return ok ? tests : undefined;
}

function conditionValues(
  operator: ConditionOperator,
  list: readonly unknown[],
  field: string,
  problem: Problem,
): Pattern[] | undefined {
  const patterns: Pattern[] = [];
  for (const v of list) {
    if (operator === "Bool" || operator === "Null") {
      if (v !== true && v !== false && v !== "true" && v !== "false")
        return void problem(field, `${operator} takes "true" or "false", got ${show(v)}`);
      patterns.push(compilePattern(String(v), { wildcards: false, variables: false }) as Pattern);
      continue;
    }
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
      return void problem(field, `values must be strings, got ${show(v)}`);
    const p = compilePattern(String(v), { wildcards: operator.endsWith("Like"), variables: true });
    if ("problem" in p) return void problem(field, p.problem);
    patterns.push(p);
  }
  return patterns;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
