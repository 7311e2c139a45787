/**
 * Raw SQS and EventBridge calls for the event-source figures: AWS JSON 1.0 (`AmazonSQS.<Action>`)
 * and 1.1 (`AWSEvents.<Action>`) over the bench's plain keep-alive client, signed before any
 * timer starts (as the Invoke figures sign theirs), so that the client's SigV4 and the SDK's
 * middleware stack are not counted; the platform still verifies every request in full.
 */
import type http from "node:http";
import type { Credentials } from "../../src/gateway/auth/principal.js";
import { type Headers, type Reply, Signer, send } from "./http-client.js";

const PROTOCOLS = {
  sqs: { prefix: "AmazonSQS.", type: "application/x-amz-json-1.0" },
  events: { prefix: "AWSEvents.", type: "application/x-amz-json-1.1" },
} as const;

/** A request signed and ready to send (any number of times: SigV4 allows replays for minutes). */
export interface SignedCall {
  readonly headers: Headers;
  readonly body: Buffer;
}

export class AwsJson {
  readonly base: URL;
  readonly #signer: Signer;
  readonly #protocol: (typeof PROTOCOLS)[keyof typeof PROTOCOLS];

  constructor(base: URL, credentials: Credentials, service: keyof typeof PROTOCOLS) {
    this.base = base;
    this.#signer = new Signer(credentials, service);
    this.#protocol = PROTOCOLS[service];
  }

  async sign(action: string, input: Record<string, unknown>): Promise<SignedCall> {
    const body = Buffer.from(JSON.stringify(input));
    const headers = await this.#signer.post(this.base, "/", body, {
      "content-type": this.#protocol.type,
      "x-amz-target": `${this.#protocol.prefix}${action}`,
    });
    return { headers, body };
  }

  send(agent: http.Agent, call: SignedCall): Promise<Reply> {
    return send(agent, this.base, "/", call.headers, call.body);
  }

  /** Signs and sends; throws unless the answer is a 200. */
  async call<T>(agent: http.Agent, action: string, input: Record<string, unknown>): Promise<T> {
    const reply = await this.send(agent, await this.sign(action, input));
    if (reply.status !== 200)
      throw new Error(`${action}: HTTP ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`);
    return JSON.parse(reply.body.toString("utf8") || "{}") as T;
  }
}
