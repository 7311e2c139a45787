/**
 * The template's intrinsic functions: the YAML tags of their short forms (`!Ref`, `!GetAtt`,
 * `!Sub`, `!Join`, and the ones Nimbus names as unsupported), the conversion of a parsed YAML
 * document to plain values in their long forms (`{ Ref }`, `{ "Fn::GetAtt" }`…) with each
 * value's source position, and the resolution of those forms against parameters, pseudo
 * parameters and resources.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Tags } from "yaml";

/** The intrinsics the supported properties need; every other one is named as unsupported. */
export const SUPPORTED_INTRINSICS = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join"] as const;

/** Recognised so that a template using one is told it is unsupported, rather than failing to parse. */
const UNSUPPORTED_SHORT_TAGS = [
  "If",
  "Equals",
  "And",
  "Or",
  "Not",
  "Select",
  "Split",
  "FindInMap",
  "GetAZs",
  "ImportValue",
  "Base64",
  "Cidr",
  "Length",
  "ToJsonString",
  "Transform",
] as const;
const SHORT_TAGS = ["Ref", "GetAtt", "Sub", "Join", "Condition", ...UNSUPPORTED_SHORT_TAGS];

/**
 * Every short form, for the scalar, sequence and mapping it may tag. Each keeps the node as it
 * is: `toPlain` turns a tagged node into its long form, knowing the node's position.
 */
export const INTRINSIC_TAGS: Tags = SHORT_TAGS.flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => value },
  { tag: `!${name}`, collection: "seq" as const, resolve: (value: unknown) => value },
  { tag: `!${name}`, collection: "map" as const, resolve: (value: unknown) => value },
]) as Tags;

/** Where a value is in the template: a path of keys and indexes, and its line and column. */
export type Path = readonly (string | number)[];

export interface Positions {
  /** "12:5" for the value at `path`, or undefined when it is not in the file (a Globals merge, say). */
  at(path: Path): string | undefined;
}

/** `Resources.Hello.Properties.MemorySize`, as messages name a place. */
export function pathText(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** The document as plain values, short forms turned into long ones, and where each value was. */
export function toPlain(doc: Document, lines: LineCounter): { value: unknown; positions: Positions } {
  const where = new Map<string, string>();
  const walk = (node: unknown, path: Path): unknown => {
    if (isAlias(node)) return walk(node.resolve(doc), path);
    const n = node as Node | null | undefined;
    const here = JSON.stringify(path);
    if (n?.range && !where.has(here)) {
      const { line, col } = lines.linePos(n.range[0]);
      where.set(here, `${line}:${col}`);
    }
    let value: unknown;
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const pair of n.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        // A property is found by its key's line: that is what a message about it points at.
        const keyRange = (pair.key as Node | null)?.range;
        if (keyRange) {
          const { line, col } = lines.linePos(keyRange[0]);
          where.set(JSON.stringify([...path, key]), `${line}:${col}`);
        }
        out[key] = walk(pair.value, [...path, key]);
      }
      value = out;
    } else if (isSeq(n)) {
      value = n.items.map((item, i) => walk(item, [...path, i]));
    } else if (isScalar(n)) {
      value = n.value;
    } else {
      value = n ?? null;
    }
    const tag = n && "tag" in n ? n.tag : undefined;
    return tag?.startsWith("!") && SHORT_TAGS.includes(tag.slice(1)) ? longForm(tag.slice(1), value) : value;
  };
  const value = walk(doc.contents, []);
  return { value, positions: { at: (path) => where.get(JSON.stringify(path)) } };
}

function longForm(name: string, value: unknown): unknown {
  if (name === "Ref" || name === "Condition") return { [name]: value };
  // `!GetAtt Fn.Arn` is the short form of `Fn::GetAtt: [Fn, Arn]`: the logical id ends at the first dot.
  if (name === "GetAtt" && typeof value === "string") {
    const dot = value.indexOf(".");
    return { "Fn::GetAtt": dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}

/** The name of the intrinsic function `value` calls (`Ref`, `Fn::Sub`…), if it is one. */
export function intrinsicOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  return key === "Ref" || key === "Condition" || key.startsWith("Fn::") ? key : undefined;
}

/** A template the resolver cannot accept, with the place named. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

/** What Ref and Fn::GetAtt can name. */
export interface ResolveContext {
  /** A parameter's value, a pseudo parameter's, or a resource's Ref value; undefined if none. */
  ref(name: string): string | undefined;
  /** A resource's attribute; undefined if the resource has no such attribute. */
  getAtt(logicalId: string, attribute: string): string | undefined;
}

/** The value with every intrinsic function replaced by its result; `where` names a path in errors. */
export function resolve(
  value: unknown,
  ctx: ResolveContext,
  path: Path,
  where: (p: Path) => string,
): unknown {
  const fn = intrinsicOf(value);
  if (fn !== undefined) return call(fn, (value as Record<string, unknown>)[fn], ctx, path, where);
  if (Array.isArray(value)) return value.map((v, i) => resolve(v, ctx, [...path, i], where));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolve(v, ctx, [...path, k], where)]),
    );
  return value;
}

function call(fn: string, arg: unknown, ctx: ResolveContext, path: Path, where: (p: Path) => string): string {
  const fail = (message: string): never => {
    throw new TemplateError(`${where(path)}: ${fn} ${message}`);
  };
  switch (fn) {
    case "Ref": {
      if (typeof arg !== "string") return fail("takes a name");
      return ctx.ref(arg) ?? fail(`names "${arg}", which is no parameter, pseudo parameter or resource`);
    }
    case "Fn::GetAtt": {
      if (!Array.isArray(arg) || arg.length !== 2 || arg.some((a) => typeof a !== "string"))
        return fail("takes [LogicalId, Attribute] or LogicalId.Attribute");
      const [id, attribute] = arg as [string, string];
      return ctx.getAtt(id, attribute) ?? fail(`names "${id}.${attribute}", which is not known`);
    }
    case "Fn::Sub": {
      const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
      if (typeof text !== "string" || typeof vars !== "object" || vars === null || Array.isArray(vars))
        return fail("takes a string, or [string, { Name: value }]");
      const own = resolve(vars, ctx, [...path, fn, 1], where) as Record<string, unknown>;
      return text.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
        // `${!Literal}` stands for the text `${Literal}`.
        if (inner.startsWith("!")) return `\${${inner.slice(1)}}`;
        const name = inner.trim();
        if (name in own) return String(own[name]);
        const dot = name.indexOf(".");
        const v = dot < 0 ? ctx.ref(name) : ctx.getAtt(name.slice(0, dot), name.slice(dot + 1));
        return v ?? fail(`names "${name}" in ${whole}, which is not known`);
      });
    }
    case "Fn::Join": {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== "string")
        return fail("takes [delimiter, [values…]]");
      const list = resolve(arg[1], ctx, [...path, fn, 1], where);
      if (!Array.isArray(list)) return fail("takes a list of values to join");
      return list.map(String).join(arg[0]);
    }
    default:
      return fail(`is not supported (supported: ${SUPPORTED_INTRINSICS.join(", ")})`);
  }
}
