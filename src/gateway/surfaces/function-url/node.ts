/**
 * An open, BUFFERED function URL served straight from Node's request (`Surface.node`): the
 * same event and answer as the gateway's route (`call.ts`), without the Web request and
 * response objects and the middleware between them (~25 µs of a warm call's ~250 here). The
 * rest goes the gateway's way: signed URLs (its authentication), streamed answers, CORS
 * preflights, unknown ids.
 */
import type { IncomingMessage } from "node:http";
import type { FunctionUrlConfig } from "../../../control/urls/repo.js";
import { MAX_SYNC_REQUEST_BYTES } from "../../../protocol/limits.js";
import { readNodeBody } from "../../body.js";
import { corsHeaders } from "../../cors.js";
import { nodeRequestFacts, nodeUrl } from "../../http-trigger.js";
import { nodeHeaders } from "../../node-headers.js";
import type { NodeAnswer, ReachMatch, Surface } from "../../surface.js";
import { bufferedAnswer, urlInvocation, userAuthorizer } from "./call.js";
import type { FunctionUrlDeps } from "./surface.js";

export function urlOnNode(d: FunctionUrlDeps, tooLarge: string): NonNullable<Surface["node"]> {
  return (req, reach) => {
    const config = d.urls.byId(reach.params.id ?? "");
    if (config?.authType !== "NONE" || config.invokeMode !== "BUFFERED") return undefined;
    if (config.cors && req.method === "OPTIONS") return undefined;
    return serve(d, config, req, reach, tooLarge);
  };
}

async function serve(
  d: FunctionUrlDeps,
  config: FunctionUrlConfig,
  req: IncomingMessage,
  reach: ReachMatch,
  tooLarge: string,
): Promise<NodeAnswer> {
  const body = await readNodeBody(req, MAX_SYNC_REQUEST_BYTES, tooLarge);
  const input = urlInvocation(
    d,
    config,
    nodeRequestFacts(req, nodeUrl(req), body),
    reach,
    await userAuthorizer(d, req.headers.authorization),
  );
  const cors: [string, string][] = config.cors ? corsHeaders(config.cors, req.headers.origin ?? null) : [];
  const answer = await bufferedAnswer(d, config, input, cors);
  return { status: answer.status, headers: nodeHeaders(answer.headers), body: answer.body };
}
