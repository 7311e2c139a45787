/**
 * The Query protocol's XML, written from the shapes in `shapes.ts`: members in the model's
 * order, lists and maps flattened into repeated elements under their own names.
 */
import type { Members, Shape } from "./shapes.js";

/** SQS's namespace for API version 2012-11-05, on every Query response and error. */
export const SQS_XML_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/";

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // A parser turns a literal CR (and CRLF) into LF; a body must come back byte for byte, or
  // its MD5 no longer matches, so CR travels as a character reference.
  "\r": "&#xD;",
};

/** Text safe inside an element or a quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!);
}

/** The elements of a structure's members that are set, in the shape's order. */
export function xmlMembers(members: Members, value: Readonly<Record<string, unknown>>, path = ""): string {
  let out = "";
  for (const [name, shape] of Object.entries(members)) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    out += xmlMember(name, shape, v, path ? `${path}.${name}` : name);
  }
  return out;
}

function xmlMember(name: string, shape: Shape, v: unknown, path: string): string {
  if (typeof shape === "string" || "struct" in shape) return element(name, xmlContent(shape, v, path));
  if ("list" in shape) {
    if (!Array.isArray(v)) throw new TypeError(`SQS result member ${path} must be an array, got ${typeof v}`);
    return v.map((item, i) => element(shape.item, xmlContent(shape.list, item, `${path}.${i}`))).join("");
  }
  const entries = Object.entries(record(v, path));
  return entries
    .filter(([, item]) => item !== undefined && item !== null)
    .map(([key, item]) =>
      element(
        shape.item,
        element(shape.key, escapeXml(key)) +
          element(shape.value, xmlContent(shape.map, item, `${path}.${key}`)),
      ),
    )
    .join("");
}

function xmlContent(shape: Shape, v: unknown, path: string): string {
  if (typeof shape === "string") return escapeXml(String(v));
  if ("struct" in shape) return xmlMembers(shape.struct, record(v, path), path);
  throw new TypeError(`SQS result member ${path}: a list or map directly inside another has no XML form`);
}

function record(v: unknown, path: string): Readonly<Record<string, unknown>> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new TypeError(
      `SQS result member ${path} must be an object, got ${Array.isArray(v) ? "an array" : typeof v}`,
    );
  return v as Record<string, unknown>;
}

const element = (name: string, content: string): string => `<${name}>${content}</${name}>`;
