/**
 * Reads the queues and event source mappings a stack's plan compares against: every queue's
 * tags (which say the stack a queue belongs to, if any), the attributes of the queues the stack
 * declares or owns, and the event source mappings of the functions it owns. Queues are read
 * through SQS's JSON protocol, signed for the service `sqs`.
 */
import { awsJson, SQS } from "../aws-json.js";
import type { NimbusClient } from "../client.js";
import { STACK_TAG } from "./ownership.js";
import type { CurrentMapping, CurrentQueue } from "./plan.js";
import type { StackSpec } from "./spec.js";

/** One SQS action (AWS JSON 1.0), its answer's JSON; a failure throws SQS's message. */
export function sqs<T>(client: NimbusClient, action: string, input: Record<string, unknown>): Promise<T> {
  return awsJson<T>(client, SQS, action, input);
}

/** How many ListQueueTags calls are in flight at once. */
const TAG_READS_IN_FLIGHT = 8;

/**
 * Every queue's tags by name, and the queues the stack declares or owns. `needed`: the template
 * declares queues; a platform without SQS is then an error, else it simply has none.
 */
export async function readQueues(
  client: NimbusClient,
  stack: StackSpec,
  needed: boolean,
): Promise<{ tags: Map<string, Record<string, string>>; queues: Map<string, CurrentQueue> }> {
  const tags = new Map<string, Record<string, string>>();
  const queues = new Map<string, CurrentQueue>();
  const urls: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await sqs<{ QueueUrls?: string[]; NextToken?: string }>(client, "ListQueues", {
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      });
      urls.push(...(page.QueueUrls ?? []));
      token = page.NextToken;
    } while (token);
  } catch (err) {
    if (!needed) return { tags, queues };
    throw new Error(
      `the platform does not serve SQS (ListQueues failed: ${(err as Error).message}); ` +
        "a template with AWS::SQS::Queue resources needs a platform that does",
    );
  }
  const byName = new Map(urls.map((url) => [decodeURIComponent(url.split("/").at(-1)!), url]));
  const names = [...byName.keys()];
  for (let i = 0; i < names.length; i += TAG_READS_IN_FLIGHT)
    await Promise.all(
      names.slice(i, i + TAG_READS_IN_FLIGHT).map(async (name) => {
        const got = await sqs<{ Tags?: Record<string, string> }>(client, "ListQueueTags", {
          QueueUrl: byName.get(name),
        }).catch(() => undefined); // deleted since the listing
        if (got) tags.set(name, got.Tags ?? {});
      }),
    );
  const declared = new Set(stack.queues.map((q) => q.name));
  for (const [name, t] of tags) {
    if (!declared.has(name) && t[STACK_TAG] !== stack.stackName) continue;
    const url = byName.get(name)!;
    const got = await sqs<{ Attributes?: Record<string, string> }>(client, "GetQueueAttributes", {
      QueueUrl: url,
      AttributeNames: ["All"],
    });
    queues.set(name, { url, attributes: got.Attributes ?? {}, tags: t });
  }
  return { tags, queues };
}

/** The event source mappings of each of `functions`, by function name (none for a platform without them). */
export async function readMappings(
  client: NimbusClient,
  functions: readonly string[],
): Promise<Map<string, CurrentMapping[]>> {
  const out = new Map<string, CurrentMapping[]>();
  for (const name of functions) {
    const list: CurrentMapping[] = [];
    let marker: string | undefined;
    do {
      const res = await client.request("GET", "/2015-03-31/event-source-mappings", {
        query: { FunctionName: name, ...(marker ? { Marker: marker } : {}) },
      });
      if (res.status === 404) {
        await res.body?.cancel();
        break;
      }
      if (res.status >= 300)
        throw new Error(
          `listing the event source mappings of ${name} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`,
        );
      const page = (await res.json()) as { EventSourceMappings?: CurrentMapping[]; NextMarker?: string };
      list.push(...(page.EventSourceMappings ?? []));
      marker = page.NextMarker;
    } while (marker);
    if (list.length > 0) out.set(name, list);
  }
  return out;
}
