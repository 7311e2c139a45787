/**
 * SQS as a surface: requests signed for the service "sqs", in AWS JSON 1.0 (`X-Amz-Target:
 * AmazonSQS.<Action>`, what `@aws-sdk/client-sqs` speaks, posted to `/`) or in the Query
 * protocol (form parameters, posted to `/` or to a queue's URL `/<account-id>/<queue>`).
 * They share `/` with the Lambda API, so the surface takes only requests that are SQS's by
 * their headers (`accepts`). Each answer, errors included, is in the protocol the client spoke.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { SqsError } from "../../../services/queues/errors.js";
import type { CallContext, Input, Output, QueuesService } from "../../../services/queues/queues.js";
import type { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import { bodyOf, type Surface, type SurfaceEnv } from "../../surface.js";
import {
  decodeSqsRequest,
  encodeSqsError,
  encodeSqsResult,
  type SqsEncoded,
  type SqsProtocol,
  SqsProtocolError,
  type SqsWireError,
} from "./protocol.js";

export interface SqsDeps {
  readonly queues: QueuesService;
}

/**
 * A batch of ten 1 MiB-bounded messages is 1 MiB of bodies; Query clients percent-encode them
 * (up to three bytes per byte) and JSON escapes them: the request may be a few times that.
 */
const MAX_BODY_BYTES = 5 * 1024 * 1024;
const LIMIT = { bytes: MAX_BODY_BYTES, tooLarge: `Request must be smaller than ${MAX_BODY_BYTES} bytes` };

type Action = (s: QueuesService, input: Input, ctx: CallContext) => Promise<Output>;

const ACTIONS: Readonly<Record<string, Action>> = {
  CreateQueue: (s, i, c) => s.createQueue(i, c),
  GetQueueUrl: (s, i, c) => s.getQueueUrl(i, c),
  ListQueues: (s, i, c) => s.listQueues(i, c),
  DeleteQueue: (s, i) => s.deleteQueue(i),
  GetQueueAttributes: (s, i) => s.getQueueAttributes(i),
  SetQueueAttributes: (s, i) => s.setQueueAttributes(i),
  SendMessage: (s, i) => s.sendMessage(i),
  SendMessageBatch: (s, i) => s.sendMessageBatch(i),
  ReceiveMessage: (s, i, c) => s.receiveMessage(i, c),
  DeleteMessage: (s, i) => s.deleteMessage(i),
  DeleteMessageBatch: (s, i) => s.deleteMessageBatch(i),
  ChangeMessageVisibility: (s, i) => s.changeMessageVisibility(i),
  ChangeMessageVisibilityBatch: (s, i) => s.changeMessageVisibilityBatch(i),
  PurgeQueue: (s, i) => s.purgeQueue(i),
  TagQueue: (s, i) => s.tagQueue(i),
  UntagQueue: (s, i) => s.untagQueue(i),
  ListQueueTags: (s, i) => s.listQueueTags(i),
  ListDeadLetterSourceQueues: (s, i, c) => s.listDeadLetterSourceQueues(i, c),
  StartMessageMoveTask: (s, i) => s.startMessageMoveTask(i),
  ListMessageMoveTasks: (s, i) => s.listMessageMoveTasks(i),
  CancelMessageMoveTask: (s, i) => s.cancelMessageMoveTask(i),
};

/** Whether a request is SQS's: its target, or the service its signature is scoped to. */
export function isSqsRequest(request: Request): boolean {
  const target = request.headers.get("x-amz-target");
  if (target !== null) return target.startsWith("AmazonSQS.");
  const auth = request.headers.get("authorization");
  if (auth !== null) return auth.includes("/sqs/aws4_request");
  return /X-Amz-Credential=[^&]*(%2F|\/)sqs(%2F|\/)aws4_request/i.test(request.url);
}

function protocolOf(request: Request): SqsProtocol {
  return request.headers.get("x-amz-target") === null ? "query" : "json";
}

function respond(e: SqsEncoded): Response {
  return new Response(e.body, { status: e.status, headers: e.headers });
}

/** The gateway's own errors (authentication, body size, the platform's failures) under SQS's codes. */
const CODES: Readonly<Record<string, string>> = {
  MissingAuthenticationToken: "MissingAuthenticationToken",
  InvalidSignature: "SignatureDoesNotMatch",
  UnrecognizedClient: "InvalidClientTokenId",
  RequestExpired: "RequestExpired",
  IncompleteSignature: "IncompleteSignature",
  RequestTooLarge: "RequestTooLarge",
  NotFound: "InvalidAction",
  ServiceUnavailable: "ServiceUnavailable",
  Internal: "InternalError",
};

export function sqsErrorResponse(err: NimbusError, requestId: string, request: Request): Response {
  const wire: SqsWireError = {
    code: CODES[err.code] ?? "InvalidParameterValue",
    message: err.message,
    status: err.status,
    sender: err.fault === "user",
  };
  return respond(encodeSqsError(protocolOf(request), wire, requestId));
}

export function sqsSurface(d: SqsDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  const handle = async (c: Context<SurfaceEnv>) => {
    const requestId = newRequestId();
    let protocol = protocolOf(c.req.raw);
    try {
      const call = decodeSqsRequest({
        method: c.req.method,
        url: c.req.url,
        headers: c.req.raw.headers,
        body: bodyOf(c),
      });
      protocol = call.protocol;
      const action = ACTIONS[call.action];
      if (!action)
        throw new SqsError(
          "UnsupportedOperation",
          `${call.action} is not supported by Nimbus: queue access is the platform's keys.`,
        );
      // Read when an action needs them (queue URLs, a long poll): making a request's abort
      // signal costs an AbortController and a listener, ~3 % of a SendMessage's CPU.
      const raw = c.req.raw;
      const ctx: CallContext = {
        get endpoint() {
          return new URL(raw.url).origin;
        },
        get signal() {
          return raw.signal;
        },
      };
      const output = await action(d.queues, call.input, ctx);
      return respond(encodeSqsResult(protocol, call.action, output, requestId));
    } catch (err) {
      if (err instanceof SqsProtocolError) return respond(encodeSqsError(err.protocol, err, requestId));
      if (err instanceof SqsError) return respond(encodeSqsError(protocol, err, requestId));
      throw err;
    }
  };
  app.post("/", handle);
  app.get("/", handle);
  app.post("/:account/:queue", handle);
  app.get("/:account/:queue", handle);
  return {
    name: "sqs",
    reach: { pathPrefix: "/", accepts: isSqsRequest },
    auth: { kind: "platform-key", service: "sqs" },
    body: { mode: "buffered", limit: () => LIMIT },
    renderError: sqsErrorResponse,
    app,
  };
}
