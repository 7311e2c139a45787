/**
 * SQS errors on the wire, in the protocol the client spoke. The JSON protocol names an error by
 * its model name (`QueueDoesNotExist`); the Query protocol, which came first, by its legacy code
 * (`AWS.SimpleQueueService.NonExistentQueue`). A JSON answer carries the legacy code too, in
 * `x-amzn-query-error`: the SDKs are "query compatible" and expose it as the error's `Code`.
 */
import { escapeXml, SQS_XML_NAMESPACE } from "./xml.js";

export type SqsProtocol = "json" | "query";

/** An SQS error as the surface renders it; `sender` false only for the platform's own failures. */
export interface SqsWireError {
  readonly code: string;
  readonly message: string;
  readonly status: number;
  readonly sender: boolean;
}

export interface SqsEncoded {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A request that is not a well-formed SQS call, in either protocol; `protocol` is the one to answer in. */
export class SqsProtocolError extends Error implements SqsWireError {
  override readonly name = "SqsProtocolError";
  readonly code: string;
  readonly status: number;
  readonly sender = true;
  readonly protocol: SqsProtocol;

  constructor(protocol: SqsProtocol, code: string, message: string, status = 400) {
    super(message);
    this.protocol = protocol;
    this.code = code;
    this.status = status;
  }
}

/**
 * The Query code of each JSON code that differs (the model's `awsQueryError` traits); every
 * other code is the same in both protocols (`ReceiptHandleIsInvalid`, `InvalidParameterValue`…).
 */
export const QUERY_ERROR_CODES: Readonly<Record<string, string>> = {
  QueueDoesNotExist: "AWS.SimpleQueueService.NonExistentQueue",
  QueueNameExists: "QueueAlreadyExists",
  QueueDeletedRecently: "AWS.SimpleQueueService.QueueDeletedRecently",
  PurgeQueueInProgress: "AWS.SimpleQueueService.PurgeQueueInProgress",
  BatchEntryIdsNotDistinct: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
  EmptyBatchRequest: "AWS.SimpleQueueService.EmptyBatchRequest",
  TooManyEntriesInBatchRequest: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
  InvalidBatchEntryId: "AWS.SimpleQueueService.InvalidBatchEntryId",
  BatchRequestTooLong: "AWS.SimpleQueueService.BatchRequestTooLong",
  UnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
  MessageNotInflight: "AWS.SimpleQueueService.MessageNotInflight",
};

/** The legacy Query code of a JSON error code. */
export function queryErrorCode(code: string): string {
  return Object.hasOwn(QUERY_ERROR_CODES, code) ? QUERY_ERROR_CODES[code]! : code;
}

/** The response for an SQS error, in the protocol the request came in. */
export function encodeSqsError(protocol: SqsProtocol, err: SqsWireError, requestId: string): SqsEncoded {
  const type = err.sender ? "Sender" : "Receiver";
  const legacy = queryErrorCode(err.code);
  if (protocol === "json") {
    return {
      status: err.status,
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": requestId,
        // Sent for every error, as SQS does when a client asks with x-amzn-query-mode: the SDK
        // then finds the exception class by this code (through the model's awsQueryError) and
        // shows it as `err.Code`, as older code written against the Query protocol expects.
        "x-amzn-query-error": `${legacy};${type}`,
      },
      body: JSON.stringify({ __type: `com.amazonaws.sqs#${err.code}`, message: err.message }),
    };
  }
  return {
    status: err.status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body:
      `<?xml version="1.0"?><ErrorResponse xmlns="${SQS_XML_NAMESPACE}"><Error>` +
      `<Type>${type}</Type><Code>${escapeXml(legacy)}</Code><Message>${escapeXml(err.message)}</Message><Detail/>` +
      `</Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`,
  };
}
