/**
 * SQS's two wire protocols, as pure functions: a request in, the action and its input out (in
 * the JSON protocol's shape, whichever protocol it came in); a result or an error in, the
 * response in the protocol the client spoke. `@aws-sdk/client-sqs` speaks AWS JSON 1.0; the
 * AWS CLI v1, older SDKs and boto3 before 2023 speak Query (form parameters in, XML out).
 */
import { type SqsEncoded, type SqsProtocol, SqsProtocolError } from "./errors.js";
import { queryInput, readForm } from "./query-input.js";
import { ACTIONS, operationOf } from "./shapes.js";
import { escapeXml, SQS_XML_NAMESPACE, xmlMembers } from "./xml.js";

export {
  encodeSqsError,
  QUERY_ERROR_CODES,
  queryErrorCode,
  type SqsEncoded,
  type SqsProtocol,
  SqsProtocolError,
  type SqsWireError,
} from "./errors.js";
export { ACTIONS as SQS_ACTIONS } from "./shapes.js";

export interface SqsRequest {
  readonly method: string;
  /** The request target: an absolute URL, or its path and query (GET carries Query parameters there). */
  readonly url: string;
  readonly headers: Headers;
  readonly body: Buffer;
}

export interface SqsCall {
  readonly protocol: SqsProtocol;
  readonly action: string;
  readonly input: Record<string, unknown>;
  /**
   * The queue URL the request was sent to, when its path is `/<account-id>/<queue-name>` (Query
   * clients post to the queue's URL); already in `input.QueueUrl` unless the input named one.
   */
  readonly pathQueueUrl?: string;
}

const JSON_TYPE = "application/x-amz-json-1.0";
const FORM_TYPE = "application/x-www-form-urlencoded";
const TARGET_PREFIX = "AmazonSQS.";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The action and input of an SQS request, in either protocol; throws `SqsProtocolError` when it is not one. */
export function decodeSqsRequest(r: SqsRequest): SqsCall {
  const url = new URL(r.url, "http://localhost");
  const type = (r.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const target = r.headers.get("x-amz-target");
  let call: { protocol: SqsProtocol; action: string; input: Record<string, unknown> };
  if (target !== null) call = decodeJson(target, type, r.body);
  else if (r.method === "GET" || (r.method === "POST" && (type === FORM_TYPE || type === "")))
    call = decodeQuery(url, r.method === "POST" ? r.body : undefined);
  else
    throw new SqsProtocolError(
      "query",
      "MissingAction",
      `cannot read an SQS action from a ${r.method} request with content type "${type}": expected ` +
        `POST with X-Amz-Target: AmazonSQS.<Action> and ${JSON_TYPE} (AWS JSON 1.0), or Action=<Action> ` +
        `in a ${FORM_TYPE} POST body or a GET query string (Query)`,
    );
  const pathQueueUrl = queueUrlOfPath(r, url);
  if (pathQueueUrl === undefined) return call;
  const input = call.input;
  if (
    "QueueUrl" in operationOf(call.action)!.input &&
    (input.QueueUrl === undefined || input.QueueUrl === null)
  )
    input.QueueUrl = pathQueueUrl;
  return { ...call, pathQueueUrl };
}

function decodeJson(target: string, type: string, body: Buffer) {
  const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  if (action === undefined)
    throw new SqsProtocolError(
      "json",
      "InvalidAction",
      `X-Amz-Target "${target.slice(0, 100)}" is not an SQS operation: expected ${TARGET_PREFIX}<Action>`,
    );
  checkAction("json", action);
  if (type !== JSON_TYPE && type !== "application/x-amz-json-1.1" && type !== "application/json")
    throw new SqsProtocolError(
      "json",
      "SerializationException",
      `content type "${type}" is not AWS JSON: expected ${JSON_TYPE} with X-Amz-Target`,
    );
  const text = text8(body, "json");
  if (text.trim() === "") return { protocol: "json" as const, action, input: {} };
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw new SqsProtocolError(
      "json",
      "SerializationException",
      `the body of ${action} is not JSON (${(e as Error).message}): expected a JSON object of its parameters`,
    );
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new SqsProtocolError(
      "json",
      "SerializationException",
      `the body of ${action} is ${input === null ? "null" : Array.isArray(input) ? "an array" : `a ${typeof input}`}: expected a JSON object of its parameters`,
    );
  return { protocol: "json" as const, action, input: input as Record<string, unknown> };
}

function decodeQuery(url: URL, body: Buffer | undefined) {
  const params = readForm(url.search.slice(1));
  if (body) readForm(text8(body, "query"), params);
  const action = params.get("Action")?.at(-1);
  if (action === undefined || action === "")
    throw new SqsProtocolError(
      "query",
      "MissingAction",
      `the request names no action: expected an Action parameter (Action=SendMessage&Version=2012-11-05&…), or an X-Amz-Target header with a ${JSON_TYPE} body`,
    );
  const op = checkAction("query", action);
  return { protocol: "query" as const, action, input: queryInput(params, op.input) };
}

function checkAction(protocol: SqsProtocol, action: string) {
  const op = operationOf(action);
  if (!op)
    throw new SqsProtocolError(
      protocol,
      "InvalidAction",
      `"${action.slice(0, 100)}" is not an SQS action: expected one of ${ACTIONS.join(", ")}`,
    );
  return op;
}

function text8(body: Buffer, protocol: SqsProtocol): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new SqsProtocolError(
      protocol,
      protocol === "json" ? "SerializationException" : "MalformedQueryString",
      "the request body is not UTF-8 text: expected UTF-8",
    );
  }
}

/** `<scheme>://<host>/<account-id>/<queue-name>` when the path has exactly those two segments. */
function queueUrlOfPath(r: SqsRequest, url: URL): string | undefined {
  const path = url.pathname.replace(/\/$/, "");
  if (!/^\/[^/]+\/[^/]+$/.test(path)) return undefined;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(r.url) ? url.protocol : "http:";
  return `${scheme}//${r.headers.get("host") ?? url.host}${path}`;
}

/** The response for an action's result, in the protocol the request came in. */
export function encodeSqsResult(
  protocol: SqsProtocol,
  action: string,
  output: Record<string, unknown>,
  requestId: string,
): SqsEncoded {
  if (protocol === "json")
    return {
      status: 200,
      headers: { "content-type": JSON_TYPE, "x-amzn-requestid": requestId },
      body: JSON.stringify(output),
    };
  const op = operationOf(action);
  if (!op)
    throw new Error(`SQS action ${action} has no Query result shape: expected one of ${ACTIONS.join(", ")}`);
  // An action that returns nothing has no <…Result> element at all, as SQS answers it.
  const result =
    op.output === null ? "" : `<${action}Result>${xmlMembers(op.output, output)}</${action}Result>`;
  return {
    status: 200,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body:
      `<?xml version="1.0"?><${action}Response xmlns="${SQS_XML_NAMESPACE}">${result}` +
      `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`,
  };
}
