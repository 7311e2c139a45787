/**
 * Tags on an HTTP API and on its stages, addressed as API Gateway addresses them: by ARN,
 * `arn:{partition}:apigateway:{region}::/apis/{apiId}` and `…/apis/{apiId}/stages/{stageName}`
 * (what Terraform's stage resource reads and writes). Region and partition are not compared (one
 * platform is one account). Routes and the other parts take no tags of their own here: an ARN
 * naming one is refused, saying which ARNs Nimbus tags.
 */
import { invalidInput, NimbusError } from "../../shared/errors.js";
import type { ApiStage, HttpApi } from "./model.js";

const TAGGED_ARN = /^arn:[^:]+:apigateway:[^:]*::\/apis\/([a-z0-9]+)(?:\/stages\/([^/]+))?$/;

/** What a tag ARN names: an API, or one of its stages. */
export interface Tagged {
  readonly apiId: string;
  readonly stageName?: string | undefined;
}

/** The API (and stage) an ARN names; InvalidParameter for any other ARN. */
export function taggedOfArn(arn: string): Tagged {
  const m = TAGGED_ARN.exec(arn);
  if (m === null)
    throw invalidInput([
      {
        field: "resourceArn",
        value: arn,
        rule: "pattern",
        expected:
          "be an HTTP API's ARN, arn:aws:apigateway:{region}::/apis/{apiId}, or a stage's, …/apis/{apiId}/stages/{stageName} (Nimbus tags APIs and stages only)",
      },
    ]);
  return { apiId: m[1]!, stageName: m[2] };
}

/** The tags of what `at` names in `api`. */
export function tagsOf(api: HttpApi, at: Tagged): Record<string, string> {
  return { ...(at.stageName === undefined ? api.tags : (stageOf(api, at.stageName).tags ?? {})) };
}

/** `api` with `tags` added to what `at` names, replacing any of the same keys. */
export function withTags(api: HttpApi, at: Tagged, tags: Readonly<Record<string, string>>): HttpApi {
  return retagged(api, at, (current) => ({ ...current, ...tags }));
}

/** `api` without the tags of `keys` on what `at` names (keys it does not have are ignored, as API Gateway does). */
export function withoutTags(api: HttpApi, at: Tagged, keys: readonly string[]): HttpApi {
  const drop = new Set(keys);
  return retagged(api, at, (current) =>
    Object.fromEntries(Object.entries(current).filter(([k]) => !drop.has(k))),
  );
}

function retagged(
  api: HttpApi,
  at: Tagged,
  next: (current: Readonly<Record<string, string>>) => Record<string, string>,
): HttpApi {
  const { stageName } = at;
  if (stageName === undefined) return { ...api, tags: next(api.tags) };
  const stage = stageOf(api, stageName);
  // A stage's tags are not its settings: its lastUpdatedDate stays.
  const tagged: ApiStage = { ...stage, tags: next(stage.tags ?? {}) };
  return { ...api, stages: api.stages.map((s) => (s === stage ? tagged : s)) };
}

function stageOf(api: HttpApi, stageName: string): ApiStage {
  const stage = api.stages.find((s) => s.stageName === stageName);
  if (!stage)
    throw new NimbusError("NotFound", `Invalid stage identifier specified ${api.apiId}:${stageName}`);
  return stage;
}
