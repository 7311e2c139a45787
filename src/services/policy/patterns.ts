/**
 * The patterns of a policy: `*` (any run of characters, `/` included) and `?` (one character)
 * as wildcards where the element takes them (resources, actions, `StringLike`), and the
 * variables `${auth.sub}`, `${auth.email}`, `${auth.role}`, replaced by the caller's claims.
 * A variable's value is taken literally (a `*` in an address is a star, never a wildcard), and
 * a pattern naming a variable the caller does not have matches nothing. `${*}`, `${?}` and
 * `${$}` are the characters themselves. Matching is linear in practice (one backtrack point:
 * the last star), never a regular expression built from user input.
 */

export const VARIABLES = ["auth.sub", "auth.email", "auth.role"] as const;
export type Variable = (typeof VARIABLES)[number];

/** A variable's value for the caller, or undefined when the caller has none. */
export type Variables = (name: Variable) => string | undefined;

type Token =
  | { readonly text: string }
  | { readonly variable: Variable }
  | { readonly wild: typeof STAR | typeof ONE };

export interface Pattern {
  /** As written. */
  readonly source: string;
  readonly tokens: readonly Token[];
  readonly variables: readonly Variable[];
}

const STAR = 0;
const ONE = 1;
/** A code point, or a wildcard. */
type Unit = string | typeof STAR | typeof ONE;

const ESCAPES: Readonly<Record<string, string>> = { "*": "*", "?": "?", $: "$" };

/** `source` compiled, or what is wrong with it (an unknown or unclosed variable). */
export function compilePattern(
  source: string,
  o: { readonly wildcards: boolean; readonly variables: boolean },
): Pattern | { readonly problem: string } {
  const tokens: Token[] = [];
  const variables: Variable[] = [];
  let text = "";
  const flush = () => {
    if (text !== "") tokens.push({ text });
    text = "";
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (o.variables && ch === "$" && source[i + 1] === "{") {
      const end = source.indexOf("}", i + 2);
      if (end === -1)
        return { problem: `${JSON.stringify(source)} opens a variable with \${ and never closes it` };
      const name = source.slice(i + 2, end);
      i = end;
      const escaped = ESCAPES[name];
      if (escaped !== undefined) {
        text += escaped;
        continue;
      }
      if (!(VARIABLES as readonly string[]).includes(name))
        return {
          problem: `${JSON.stringify(source)} names the variable \${${name}}: the variables are ${VARIABLES.map((v) => `\${${v}}`).join(", ")} (and \${*}, \${?}, \${$} for those characters)`,
        };
      flush();
      tokens.push({ variable: name as Variable });
      variables.push(name as Variable);
    } else if (o.wildcards && (ch === "*" || ch === "?")) {
      flush();
      tokens.push({ wild: ch === "*" ? STAR : ONE });
    } else text += ch;
  }
  flush();
  return { source, tokens, variables };
}

/** Whether `value` matches the pattern for a caller with `vars` (`fold`: ignoring case). */
export function matches(p: Pattern, value: string, vars: Variables, fold = false): boolean {
  // The common case: one piece of text, compared whole.
  const only = p.tokens.length === 1 ? p.tokens[0]! : undefined;
  if (only !== undefined && "text" in only)
    return fold ? only.text.toLowerCase() === value.toLowerCase() : only.text === value;
  const units = resolve(p, vars);
  if (units === undefined) return false;
  return glob(
    fold ? units.map((u) => (typeof u === "string" ? u.toLowerCase() : u)) : units,
    Array.from(fold ? value.toLowerCase() : value),
  );
}

/** The pattern with the caller's values in place of its variables (those the caller has not, as written). */
export function render(p: Pattern, vars: Variables): string {
  return p.tokens
    .map((t) => {
      if ("text" in t) return t.text;
      if ("wild" in t) return t.wild === STAR ? "*" : "?";
      return vars(t.variable) ?? `\${${t.variable}}`;
    })
    .join("");
}

/** The variables the pattern names that the caller has no value for. */
export function missingVariables(p: Pattern, vars: Variables): Variable[] {
  return p.variables.filter((v) => vars(v) === undefined);
}

function resolve(p: Pattern, vars: Variables): Unit[] | undefined {
  const units: Unit[] = [];
  for (const t of p.tokens) {
    if ("wild" in t) units.push(t.wild);
    else {
      const text = "text" in t ? t.text : vars(t.variable);
      if (text === undefined) return undefined;
      for (const ch of text) units.push(ch);
    }
  }
  return units;
}

/** Wildcard matching over code points, backtracking only to the last star. */
function glob(pattern: readonly Unit[], value: readonly string[]): boolean {
  let p = 0;
  let v = 0;
  let starAt = -1;
  let starV = 0;
  while (v < value.length) {
    const u = pattern[p];
    if (p < pattern.length && (u === ONE || u === value[v])) {
      p++;
      v++;
    } else if (u === STAR) {
      starAt = p++;
      starV = v;
    } else if (starAt !== -1) {
      p = starAt + 1;
      v = ++starV;
    } else return false;
  }
  while (pattern[p] === STAR) p++;
  return p === pattern.length;
}
