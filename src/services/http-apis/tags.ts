/**
 * Tags on an HTTP API, addressed as API Gateway addresses them: by the API's ARN,
 * `arn:{partition}:apigateway:{region}::/apis/{apiId}`. Region and partition are not compared
 * (one platform is one account). Stages, routes and the other parts take no tags of their own
 * here: an ARN naming one is refused, saying which ARNs Nimbus tags.
 */
import { invalidInput } from "../../shared/errors.js";
import type { HttpApi } from "./model.js";

const API_ARN = /^arn:[^:]+:apigateway:[^:]*::\/apis\/([a-z0-9]+)$/;

/** The API id an ARN names; InvalidParameter for any other ARN. */
export function apiIdOfArn(arn: string): string {
  const m = API_ARN.exec(arn);
  if (m === null)
    throw invalidInput([
      {
        field: "resourceArn",
        value: arn,
        rule: "pattern",
        expected: "be an HTTP API's ARN, arn:aws:apigateway:{region}::/apis/{apiId} (Nimbus tags APIs only)",
      },
    ]);
  return m[1]!;
}

/** `api` with `tags` added, replacing any of the same keys. */
export function withTags(api: HttpApi, tags: Readonly<Record<string, string>>): HttpApi {
  return { ...api, tags: { ...api.tags, ...tags } };
}

/** `api` without the tags of `keys` (keys it does not have are ignored, as API Gateway does). */
export function withoutTags(api: HttpApi, keys: readonly string[]): HttpApi {
  const drop = new Set(keys);
  return { ...api, tags: Object.fromEntries(Object.entries(api.tags).filter(([k]) => !drop.has(k))) };
}
