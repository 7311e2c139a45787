/**
 * EventBridge as a surface: AWS JSON 1.1 (`X-Amz-Target: AWSEvents.<Action>`), signed for the
 * service "events", posted to `/` — which the Lambda API's catch-all shares, so the surface
 * takes only requests whose target is EventBridge's (`accepts`). Errors in EventBridge's shape.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { EventsError } from "../../../services/events/errors.js";
import type { EventBus, Input, Output } from "../../../services/events/events.js";
import { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import { parseJsonObject } from "../../body.js";
import { bodyOf, type Surface, type SurfaceEnv } from "../../surface.js";

export interface EventBridgeDeps {
  readonly events: EventBus;
}

const TARGET_PREFIX = "AWSEvents.";
const JSON_TYPE = "application/x-amz-json-1.1";
/** PutEvents takes 256 KB of entries; JSON escaping can double that. */
const LIMIT = { bytes: 1024 * 1024, tooLarge: "Request must be smaller than 1048576 bytes" };

type Action = (e: EventBus, input: Input) => Promise<Output>;
const ACTIONS: Readonly<Record<string, Action>> = {
  CreateEventBus: (e, i) => e.createEventBus(i),
  DescribeEventBus: (e, i) => e.describeEventBus(i),
  ListEventBuses: (e, i) => e.listEventBuses(i),
  DeleteEventBus: (e, i) => e.deleteEventBus(i),
  PutRule: (e, i) => e.putRule(i),
  DescribeRule: (e, i) => e.describeRule(i),
  ListRules: (e, i) => e.listRules(i),
  EnableRule: (e, i) => e.enableRule(i),
  DisableRule: (e, i) => e.disableRule(i),
  DeleteRule: (e, i) => e.deleteRule(i),
  PutTargets: (e, i) => e.putTargets(i),
  RemoveTargets: (e, i) => e.removeTargets(i),
  ListTargetsByRule: (e, i) => e.listTargetsByRule(i),
  PutEvents: (e, i) => e.putEvents(i),
  TestEventPattern: (e, i) => e.testEventPattern(i),
  CreateArchive: (e, i) => e.archives.createArchive(i),
  DescribeArchive: (e, i) => e.archives.describeArchive(i),
  ListArchives: (e, i) => e.archives.listArchives(i),
  UpdateArchive: (e, i) => e.archives.updateArchive(i),
  DeleteArchive: (e, i) => e.archives.deleteArchive(i),
  StartReplay: (e, i) => e.archives.startReplay(i),
  DescribeReplay: (e, i) => e.archives.describeReplay(i),
  ListReplays: (e, i) => e.archives.listReplays(i),
  CancelReplay: (e, i) => e.archives.cancelReplay(i),
  CreateConnection: (e, i) => e.destinations.createConnection(i),
  DescribeConnection: (e, i) => e.destinations.describeConnection(i),
  ListConnections: (e, i) => e.destinations.listConnections(i),
  UpdateConnection: (e, i) => e.destinations.updateConnection(i),
  DeauthorizeConnection: (e, i) => e.destinations.deauthorizeConnection(i),
  DeleteConnection: (e, i) => e.destinations.deleteConnection(i),
  CreateApiDestination: (e, i) => e.destinations.createApiDestination(i),
  DescribeApiDestination: (e, i) => e.destinations.describeApiDestination(i),
  ListApiDestinations: (e, i) => e.destinations.listApiDestinations(i),
  UpdateApiDestination: (e, i) => e.destinations.updateApiDestination(i),
  DeleteApiDestination: (e, i) => e.destinations.deleteApiDestination(i),
  TagResource: (e, i) => e.tags.tagResource(i),
  UntagResource: (e, i) => e.tags.untagResource(i),
  ListTagsForResource: (e, i) => e.tags.listTagsForResource(i),
};

export function isEventBridgeRequest(request: Request): boolean {
  return request.headers.get("x-amz-target")?.startsWith(TARGET_PREFIX) === true;
}

function answer(code: string, message: string, status: number, requestId: string): Response {
  return new Response(JSON.stringify({ __type: code, message }), {
    status,
    headers: { "content-type": JSON_TYPE, "x-amzn-requestid": requestId },
  });
}

/** The gateway's own errors under EventBridge's names. */
const CODES: Readonly<Record<string, string>> = {
  MissingAuthenticationToken: "MissingAuthenticationTokenException",
  InvalidSignature: "InvalidSignatureException",
  UnrecognizedClient: "UnrecognizedClientException",
  RequestExpired: "ExpiredTokenException",
  IncompleteSignature: "IncompleteSignature",
  RequestTooLarge: "ValidationException",
  InvalidRequestContent: "ValidationException",
  NotFound: "UnknownOperationException",
  ServiceUnavailable: "ServiceUnavailable",
  Internal: "InternalException",
};

export function eventBridgeErrorResponse(err: NimbusError, requestId: string): Response {
  return answer(CODES[err.code] ?? "ValidationException", err.message, err.status, requestId);
}

export function eventBridgeSurface(d: EventBridgeDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  app.post("/", async (c: Context<SurfaceEnv>) => {
    const requestId = newRequestId();
    const action = c.req.header("x-amz-target")!.slice(TARGET_PREFIX.length);
    const run = ACTIONS[action];
    if (!run)
      return answer(
        "UnknownOperationException",
        `${action} is not an EventBridge operation Nimbus serves.`,
        400,
        requestId,
      );
    try {
      const body = bodyOf(c);
      const input = body.length === 0 ? {} : parseJsonObject(body);
      const output = await run(d.events, input);
      return new Response(JSON.stringify(output), {
        status: 200,
        headers: { "content-type": JSON_TYPE, "x-amzn-requestid": requestId },
      });
    } catch (err) {
      if (err instanceof EventsError) return answer(err.code, err.message, err.status, requestId);
      if (err instanceof NimbusError) return eventBridgeErrorResponse(err, requestId);
      throw err;
    }
  });
  return {
    name: "eventbridge",
    reach: { pathPrefix: "/", accepts: isEventBridgeRequest },
    auth: { kind: "platform-key", service: "events" },
    body: { mode: "buffered", limit: () => LIMIT },
    renderError: eventBridgeErrorResponse,
    app,
  };
}
