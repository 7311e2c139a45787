/**
 * The AWS JSON protocols the platform serves on `/`: SQS's (1.0, `AmazonSQS.<Action>`) and
 * EventBridge's (1.1, `AWSEvents.<Action>`). One POST per action, signed for the service; an
 * error is thrown with its `__type` and message, as `NimbusClient.call` words it.
 */
import type { NimbusClient } from "./client.js";

export interface JsonProtocol {
  /** Whom the request is signed for. */
  readonly service: string;
  readonly targetPrefix: string;
  readonly contentType: string;
}

export const SQS: JsonProtocol = {
  service: "sqs",
  targetPrefix: "AmazonSQS",
  contentType: "application/x-amz-json-1.0",
};

export const EVENTS: JsonProtocol = {
  service: "events",
  targetPrefix: "AWSEvents",
  contentType: "application/x-amz-json-1.1",
};

/** Calls `action` with `input` and answers its output. */
export function awsJson<T>(
  client: NimbusClient,
  protocol: JsonProtocol,
  action: string,
  input: Record<string, unknown>,
): Promise<T> {
  return client.json<T>("POST", "/", {
    service: protocol.service,
    headers: {
      "content-type": protocol.contentType,
      "x-amz-target": `${protocol.targetPrefix}.${action}`,
    },
    body: JSON.stringify(input),
  });
}
