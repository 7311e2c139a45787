/**
 * One request against one policy, as AWS evaluates a resource policy: an explicit Deny that
 * applies wins; else any Allow that applies; else the request is denied implicitly. A statement
 * applies when its principal names the caller, an action pattern matches the action (case
 * ignored), a resource pattern matches the resource, and every condition holds.
 *
 * The decision carries its reason, for the operator: the statement that decided, or, for an
 * implicit deny, the Allow statements that came nearest and what stopped each (the resource
 * they cover with the caller's values in their variables, the condition that did not hold).
 * The caller is never told more than "denied": the surface decides what it shows.
 *
 * Condition keys: a key the request does not set fails every operator but the negated ones
 * (`StringNotEquals`, `StringNotEqualsIgnoreCase`, `StringNotLike`) and `…IfExists`, as AWS
 * decides; `Null` tests whether it is set.
 */
import type {
  AccessRequest,
  Caller,
  ConditionOperator,
  ConditionTest,
  Decision,
  Matcher,
  Policy,
  PrincipalName,
  Principals,
  Statement,
} from "./model.js";
import {
  matches,
  missingVariables,
  type Pattern,
  render,
  type Variable,
  type Variables,
} from "./patterns.js";

/** How far a statement got before it stopped applying: the further, the nearer a miss. */
const STAGE = { principal: 0, action: 1, resource: 2, condition: 3 } as const;
/** The near misses an implicit deny names. */
const MAX_HINTS = 3;

type Check =
  | { readonly applies: true }
  | { readonly applies: false; readonly stage: number; readonly why: string };

const NEGATED: ReadonlySet<ConditionOperator> = new Set([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
]);

/** Whether `policy` allows `request`, and why. */
export function evaluate(policy: Policy, request: AccessRequest): Decision {
  const env = environmentOf(request);
  const what = `${request.action} on ${request.resource} for ${describeCaller(request.caller)}`;
  const checks = policy.statements.map((s) => ({ s, c: check(s, request, env) }));
  const deny = checks.find(({ s, c }) => s.effect === "Deny" && c.applies);
  if (deny) return { decision: "deny", reason: `${nameOf(deny.s)} denies ${what}`, statement: idOf(deny.s) };
  const allow = checks.find(({ s, c }) => s.effect === "Allow" && c.applies);
  if (allow)
    return { decision: "allow", reason: `${nameOf(allow.s)} allows ${what}`, statement: idOf(allow.s) };
  return { decision: "deny", reason: `no statement allows ${what}${hint(policy, checks)}` };
}

/** `user u-1`, or `an anonymous caller`. */
export function describeCaller(c: Caller): string {
  return c.kind === "user" ? `user ${c.id}` : "an anonymous caller";
}

interface Env {
  readonly caller: Caller;
  readonly vars: Variables;
  /** A condition key's value for this request (lower-case key), undefined when not set. */
  readonly key: (key: string) => string | undefined;
}

function environmentOf(req: AccessRequest): Env {
  const c = req.caller;
  const claim = (name: string): string | undefined => {
    if (c.kind !== "user") return undefined;
    if (name === "sub") return c.id;
    const v = c.claims[name];
    // A token carries `"email": ""` for a user without an address: that is no address.
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const auth: Readonly<Record<string, string | undefined>> = {
    "auth:sub": claim("sub"),
    "auth:email": claim("email"),
    "auth:role": claim("role"),
    "auth:aal": claim("aal"),
    "auth:anonymous": c.kind === "anonymous" || c.claims.is_anonymous === true ? "true" : "false",
  };
  return {
    caller: c,
    vars: (v: Variable) => claim(v.slice("auth.".length)),
    key: (k) => (k.startsWith("auth:") ? auth[k] : req.context?.[k]),
  };
}

function check(s: Statement, req: AccessRequest, env: Env): Check {
  const verb = s.effect === "Allow" ? "allows" : "denies";
  if (!principalMatches(s.principals, env.caller))
    return { applies: false, stage: STAGE.principal, why: `is only for ${principalsText(s.principals)}` };
  if (!holds(s.actions, (p) => matches(p, req.action, env.vars, true)))
    return { applies: false, stage: STAGE.action, why: `${verb} ${scope(s.actions, env)}` };
  if (!holds(s.resources, (p) => matches(p, req.resource, env.vars))) {
    const missing = [...new Set(s.resources.patterns.flatMap((p) => missingVariables(p, env.vars)))];
    const note =
      missing.length === 0
        ? ""
        : `, and ${describeCaller(env.caller)} has no ${missing.map((v) => `\${${v}}`).join(" or ")}`;
    return { applies: false, stage: STAGE.resource, why: `${verb} ${scope(s.resources, env)}${note}` };
  }
  for (const t of s.conditions) {
    if (conditionHolds(t, env)) continue;
    const actual = env.key(t.key);
    const values = t.values.map((v) => render(v, env.vars));
    return {
      applies: false,
      stage: STAGE.condition,
      why: `has the condition ${t.written} ${t.key} ${JSON.stringify(values)}, which does not hold: ${t.key} is ${actual === undefined ? "not set" : JSON.stringify(actual)}`,
    };
  }
  return { applies: true };
}

function holds(m: Matcher, match: (p: Pattern) => boolean): boolean {
  const any = m.patterns.some(match);
  return m.not ? !any : any;
}

/** `only a, b` or `everything but a, b`, the caller's values in the variables. */
function scope(m: Matcher, env: Env): string {
  const list = m.patterns.map((p) => render(p, env.vars)).join(", ");
  return m.not ? `everything but ${list}` : `only ${list}`;
}

function principalMatches(p: Principals, c: Caller): boolean {
  if (p.everyone) return true;
  return p.names.some((n) => nameMatches(n, c));
}

function nameMatches(n: PrincipalName, c: Caller): boolean {
  switch (n.kind) {
    case "anonymous":
      return c.kind === "anonymous";
    case "authenticated":
      return c.kind === "user";
    case "user":
      return c.kind === "user" && c.id === n.id;
    case "role":
      return c.kind === "user" && rolesOf(c.claims).includes(n.role);
  }
}

/** `app_metadata.roles`: the roles the operator gave the user (users cannot edit app metadata). */
function rolesOf(claims: Readonly<Record<string, unknown>>): readonly string[] {
  const app = claims.app_metadata;
  const roles = typeof app === "object" && app !== null ? (app as Record<string, unknown>).roles : undefined;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
}

function principalsText(p: Principals): string {
  if (p.everyone) return "everyone";
  return p.names
    .map((n) => (n.kind === "user" ? `user:${n.id}` : n.kind === "role" ? `role:${n.role}` : n.kind))
    .join(", ");
}

function conditionHolds(t: ConditionTest, env: Env): boolean {
  const actual = env.key(t.key);
  if (t.operator === "Null") return t.values.some((v) => (v.source === "true") === (actual === undefined));
  const negated = NEGATED.has(t.operator);
  if (actual === undefined) return t.ifExists || negated;
  const fold = t.operator.endsWith("IgnoreCase");
  const any = t.values.some((v) =>
    t.operator === "Bool" ? v.source === actual : matches(v, actual, env.vars, fold),
  );
  return negated ? !any : any;
}

function nameOf(s: Statement): string {
  return s.sid === undefined ? `Statement[${s.index}]` : `statement ${JSON.stringify(s.sid)}`;
}

function idOf(s: Statement): string | number {
  return s.sid ?? s.index;
}

/** The Allow statements that came nearest, and what stopped each. */
function hint(policy: Policy, checks: ReadonlyArray<{ s: Statement; c: Check }>): string {
  if (policy.statements.length === 0) return " (the policy has no statements)";
  const misses = checks.flatMap(({ s, c }) =>
    s.effect === "Allow" && !c.applies ? [{ s, stage: c.stage, why: c.why }] : [],
  );
  if (misses.length === 0) return " (the policy has no Allow statement)";
  const furthest = Math.max(...misses.map((m) => m.stage));
  const near = misses.filter((m) => m.stage === furthest);
  const shown = near.slice(0, MAX_HINTS).map((m) => `${nameOf(m.s)} ${m.why}`);
  const more = near.length > MAX_HINTS ? `; ${near.length - MAX_HINTS} more alike` : "";
  return ` (${shown.join("; ")}${more})`;
}
