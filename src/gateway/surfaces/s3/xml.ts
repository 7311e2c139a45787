/**
 * S3's XML: answers written by escaping templates (every element's text escaped, elements in
 * S3's order), request bodies read with fast-xml-parser into plain objects whose values stay
 * strings (an ETag or a key such as "0123" must not become a number).
 */
import { XMLParser } from "fast-xml-parser";
import { malformedXml } from "../../../services/storage/errors.js";

export const S3_XML_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // A parser turns a literal CR into LF: a key must come back byte for byte.
  "\r": "&#13;",
};

/** Text safe inside an element or a quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!);
}

/** `<name>text</name>`, the text escaped; nothing when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>children</name>`, the children already XML. */
export function node(name: string, children: string): string {
  return `<${name}>${children}</${name}>`;
}

/** A whole document: the declaration and the root element in S3's namespace. */
export function xmlDocument(root: string, children: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XML_NAMESPACE}">${children}</${root}>`;
}

/** A 200 answer carrying an XML document. */
export function xmlResponse(body: string, headers: Record<string, string> = {}, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "application/xml", ...headers } });
}

/** A parsed element: its text, or its children by name (repeated ones as arrays where asked). */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  readonly [name: string]: XmlValue | undefined;
}

/**
 * The body's root element, parsed; `arrays` names the elements (by dotted path from the root,
 * `Delete.Object`) that are lists even when there is one. A body that is not well-formed XML,
 * whose root is another, or that declares a DTD is MalformedXML.
 */
export function parseXml(body: Buffer, root: string, arrays: readonly string[]): XmlObject {
  const text = body.toString("utf8");
  // No document type: its entities could expand a small body into a large one.
  if (/<!DOCTYPE/i.test(text)) throw malformedXml("a document type declaration is not allowed");
  const parser = new XMLParser({
    ignoreAttributes: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true,
    isArray: (_name, jpath) => arrays.includes(String(jpath)),
  });
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text, true) as Record<string, unknown>;
  } catch (err) {
    throw malformedXml((err as Error).message);
  }
  const value = doc[root];
  if (value === undefined) throw malformedXml(`the root element must be <${root}>`);
  return typeof value === "object" && value !== null ? (value as XmlObject) : {};
}

/** An element's text (trimmed of the layout around it when asked), or undefined when absent. */
export function textOf(value: XmlValue | undefined, trim = false): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw malformedXml("an element that holds text holds elements");
  return trim ? value.trim() : value;
}

/** A list element's items (absent: none). */
export function listOf(value: XmlValue | undefined): XmlObject[] {
  if (value === undefined || value === "") return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (typeof item === "string") {
      if (item.trim() === "") return {};
      throw malformedXml("a list item holds text where elements are expected");
    }
    if (Array.isArray(item)) throw malformedXml("unexpected nesting");
    return item;
  });
}

/** A child element that holds elements (absent or empty: an empty object). */
export function childOf(parent: XmlObject, name: string): XmlObject {
  const value = parent[name];
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return {};
  if (typeof value === "string" || Array.isArray(value)) throw malformedXml(`<${name}> must hold elements`);
  return value;
}
