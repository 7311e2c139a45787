/**
 * The Query protocol's flattened parameters (`Attribute.1.Name=…&Attribute.1.Value=…`) read
 * into the JSON protocol's input shape (`Attributes: {…}`), so the service sees one shape
 * whatever the client spoke. Text becomes a number where the shape has an integer; text that
 * is not one stays text, for the service to refuse with the value in its message.
 */
import { SqsProtocolError } from "./errors.js";
import type { Members, Scalar, Shape } from "./shapes.js";

/** Parameters by name, each with every value it was given, in order. */
export type QueryParams = Map<string, string[]>;

/**
 * Reads `application/x-www-form-urlencoded` text into `into`. Stricter than URLSearchParams,
 * which turns a malformed escape or bytes that are not UTF-8 into U+FFFD: a message body would
 * silently change, so the request is refused instead.
 */
export function readForm(text: string, into: QueryParams = new Map()): QueryParams {
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = unescapeForm(eq < 0 ? pair : pair.slice(0, eq));
    const value = unescapeForm(eq < 0 ? "" : pair.slice(eq + 1));
    const values = into.get(key);
    if (values) values.push(value);
    else into.set(key, [value]);
  }
  return into;
}

function unescapeForm(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw malformed(
      `"${text.slice(0, 100)}" is not valid form encoding: expected %XX escapes of UTF-8 bytes, and + for a space`,
    );
  }
}

/** A parameter name's parts: `Attribute.1.Name` is Attribute → 1 → Name. */
interface Node {
  readonly values: string[];
  readonly children: Map<string, Node>;
}

/** The input of an action whose members are `members`, from its Query parameters. */
export function queryInput(params: QueryParams, members: Members): Record<string, unknown> {
  const root: Node = { values: [], children: new Map() };
  for (const [name, values] of params) {
    let node = root;
    for (const part of name.split(".")) {
      let next = node.children.get(part);
      if (!next) {
        next = { values: [], children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    node.values.push(...values);
  }
  return struct(members, root, "");
}

function struct(members: Members, node: Node, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(members)) {
    const wireName = typeof shape === "object" && !("struct" in shape) ? shape.item : name;
    const child = node.children.get(wireName);
    if (!child) continue;
    const value = member(shape, child, path ? `${path}.${wireName}` : wireName);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function member(shape: Shape, node: Node, path: string): unknown {
  if (typeof shape === "string")
    return node.values.length > 0 ? scalar(shape, node.values.at(-1)!) : undefined;
  if ("struct" in shape) return struct(shape.struct, node, path);
  if ("list" in shape) {
    const items: unknown[] = [];
    const of = shape.list;
    // A bare `AttributeName=` is how the SDK's Query serializer writes an empty list.
    if (typeof of === "string") for (const v of node.values) if (v !== "") items.push(scalar(of, v));
    for (const [i, child] of indexed(node, path)) {
      // A Query client generated from the model sends ReceiveMessage's two lists of attribute
      // names under the same `AttributeName.N`: every value given counts.
      if (typeof of === "string") for (const v of child.values) items.push(scalar(of, v));
      else items.push(member(of, child, `${path}.${i}`));
    }
    return items;
  }
  const map: Record<string, unknown> = {};
  for (const [i, entry] of indexed(node, path)) {
    const entryPath = `${path}.${i}`;
    const key = entry.children.get(shape.key)?.values.at(-1);
    const valueNode = entry.children.get(shape.value);
    const value = valueNode ? member(shape.map, valueNode, `${entryPath}.${shape.value}`) : undefined;
    if (key === undefined || value === undefined)
      throw new SqsProtocolError(
        "query",
        "MissingParameter",
        `${entryPath}.${key === undefined ? shape.key : shape.value} is missing: each ${path}.N needs both ${shape.key} and ${shape.value}`,
      );
    // As JSON.parse would: a key named __proto__ is an own property, not the prototype.
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return map;
}

/** A list's or map's numbered children, in order of their numbers. */
function indexed(node: Node, path: string): [number, Node][] {
  const out: [number, Node][] = [];
  for (const [part, child] of node.children) {
    if (!/^[1-9]\d{0,8}$/.test(part))
      throw malformed(`parameter ${path}.${part} is malformed: expected ${path}.N, N a number from 1`);
    out.push([Number(part), child]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function scalar(type: Scalar, text: string): unknown {
  if (type === "integer") return /^[+-]?\d{1,15}$/.test(text) ? Number(text) : text;
  if (type === "boolean") return text === "true" ? true : text === "false" ? false : text;
  return text;
}

const malformed = (message: string) => new SqsProtocolError("query", "MalformedQueryString", message);
