/**
 * Bucket notifications (`?notification`): S3's NotificationConfiguration read from and written
 * as XML; the rules and the events themselves are the storage service's (`notifications.ts`).
 * Also what an object event says of the request that made it (`eventOrigin`).
 */
import { S3Error } from "../../../services/storage/errors.js";
import type {
  NotificationConfiguration,
  NotificationInput,
  RequestOrigin,
  TargetKind,
} from "../../../services/storage/notifications.js";
import type { Handler, S3Deps } from "./deps.js";
import type { S3Call } from "./request.js";
import { readSmallBody } from "./upload.js";
import {
  childOf,
  el,
  listOf,
  node,
  parseXml,
  textOf,
  type XmlObject,
  xmlDocument,
  xmlResponse,
} from "./xml.js";

const MAX_CONFIG_BYTES = 256 * 1024;
const ROOT = "NotificationConfiguration";

/**
 * Each destination's element and the elements naming its ARN. The SDK writes a
 * LambdaFunctionConfiguration as S3's own XML does, CloudFunctionConfiguration/CloudFunction.
 */
const DESTINATIONS: readonly { kind: TargetKind; element: string; arn: readonly string[] }[] = [
  { kind: "queue", element: "QueueConfiguration", arn: ["Queue"] },
  { kind: "function", element: "CloudFunctionConfiguration", arn: ["CloudFunction", "Function"] },
  { kind: "function", element: "LambdaFunctionConfiguration", arn: ["Function", "CloudFunction"] },
];
const LISTS = DESTINATIONS.flatMap(({ element }) => [
  `${ROOT}.${element}`,
  `${ROOT}.${element}.Event`,
  `${ROOT}.${element}.Filter.S3Key.FilterRule`,
]);

/** What an event reports of the request: its id and the client's address (an IPv4 one without `::ffff:`). */
export function eventOrigin(call: S3Call): RequestOrigin {
  const address = call.incoming?.socket.remoteAddress ?? "127.0.0.1";
  return { requestId: call.requestId, sourceIp: address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "") };
}

/** A NotificationConfiguration document, as a configuration to check. */
export function parseNotificationXml(body: Buffer): NotificationInput {
  const doc = parseXml(body, ROOT, [...LISTS, `${ROOT}.TopicConfiguration`]);
  if (doc.TopicConfiguration !== undefined)
    throw new S3Error(
      "NotImplemented",
      501,
      "Nimbus has no SNS topics: send object events to a function (CloudFunctionConfiguration), a queue (QueueConfiguration) or the bus (EventBridgeConfiguration).",
    );
  const targets = DESTINATIONS.flatMap(({ kind, element, arn }) =>
    listOf(doc[element]).map((c) => ({
      kind,
      id: textOf(c.Id, true),
      arn:
        textOf(
          arn.map((name) => c[name]).find((v) => v !== undefined),
          true,
        ) ?? "",
      events: eventsOf(c),
      rules: listOf(childOf(childOf(c, "Filter"), "S3Key").FilterRule).map((r) => ({
        name: textOf(r.Name, true) ?? "",
        value: textOf(r.Value) ?? "",
      })),
    })),
  );
  return { targets, eventBridge: doc.EventBridgeConfiguration !== undefined };
}

function eventsOf(c: XmlObject): string[] {
  const events = c.Event;
  if (events === undefined) return [];
  return (Array.isArray(events) ? events : [events]).map((e) => textOf(e, true) ?? "");
}

/** A configuration as S3 answers it (filter rule names capitalised, as S3 writes them). */
export function notificationXml(config: NotificationConfiguration): string {
  const destination = (kind: TargetKind) =>
    config.targets
      .filter((t) => t.kind === kind)
      .map((t) => {
        const rules =
          (t.prefix === undefined ? "" : node("FilterRule", el("Name", "Prefix") + el("Value", t.prefix))) +
          (t.suffix === undefined ? "" : node("FilterRule", el("Name", "Suffix") + el("Value", t.suffix)));
        return node(
          kind === "queue" ? "QueueConfiguration" : "CloudFunctionConfiguration",
          el("Id", t.id) +
            el(kind === "queue" ? "Queue" : "CloudFunction", t.arn) +
            t.events.map((e) => el("Event", e)).join("") +
            (rules === "" ? "" : node("Filter", node("S3Key", rules))),
        );
      })
      .join("");
  return xmlDocument(
    ROOT,
    destination("queue") +
      destination("function") +
      (config.eventBridge ? node("EventBridgeConfiguration", "") : ""),
  );
}

function notificationsOf(d: S3Deps) {
  const n = d.storage.deps.notifications;
  if (n === undefined)
    throw new S3Error("NotImplemented", 501, "Object events are not wired on this platform.");
  return n;
}

export const getBucketNotification: Handler = async (call, d) =>
  xmlResponse(notificationXml(await notificationsOf(d).get(call.bucket ?? "")));

export const putBucketNotification: Handler = async (call, d) => {
  const n = notificationsOf(d);
  const input = parseNotificationXml(await readSmallBody(call, d, MAX_CONFIG_BYTES));
  await n.put(call.bucket ?? "", input, {
    requestId: call.requestId,
    skipDestinationValidation: call.headers.get("x-amz-skip-destination-validation") === "true",
  });
  return new Response(null, { status: 200 });
};
