/** Object tagging: get, put and delete an object version's tag set. */
import { malformedXml } from "../../../services/storage/errors.js";
import type { Handler } from "./deps.js";
import { checkTags } from "./headers.js";
import { versionIdOf } from "./request.js";
import { readSmallBody } from "./upload.js";
import { childOf, el, listOf, node, parseXml, textOf, xmlDocument, xmlResponse } from "./xml.js";

const MAX_TAGGING_BYTES = 64 * 1024;

const versionHeader = (versionId: string | undefined): Record<string, string> =>
  versionId === undefined ? {} : { "x-amz-version-id": versionId };

export const getObjectTagging: Handler = async (call, d) => {
  const read = await d.storage.read(call.bucket ?? "", call.key ?? "", {
    versionId: versionIdOf(call),
    conditions: {},
  });
  const v = read.version;
  const tags = Object.entries(v.tags)
    .map(([k, value]) => node("Tag", el("Key", k) + el("Value", value)))
    .join("");
  return xmlResponse(
    xmlDocument("Tagging", node("TagSet", tags)),
    versionHeader(v.versionId === "null" ? undefined : v.versionId),
  );
};

export const putObjectTagging: Handler = async (call, d) => {
  const doc = parseXml(await readSmallBody(call, d, MAX_TAGGING_BYTES), "Tagging", ["Tagging.TagSet.Tag"]);
  const pairs = listOf(childOf(doc, "TagSet").Tag).map((t) => {
    const key = textOf(t.Key);
    if (key === undefined) throw malformedXml("a <Tag> has no <Key>");
    return [key, textOf(t.Value) ?? ""] as const;
  });
  const versionId = await d.storage.putTags(
    call.bucket ?? "",
    call.key ?? "",
    versionIdOf(call),
    checkTags(pairs),
  );
  return new Response(null, { status: 200, headers: versionHeader(versionId) });
};

export const deleteObjectTagging: Handler = async (call, d) => {
  const versionId = await d.storage.putTags(call.bucket ?? "", call.key ?? "", versionIdOf(call), {});
  return new Response(null, { status: 204, headers: versionHeader(versionId) });
};
