/** An alias as a create or update would store it, checked against the versions that exist. */
import { randomUUID } from "node:crypto";
import { type Alias, LATEST } from "../../protocol/function.js";
import { NimbusError } from "../../shared/errors.js";
import type { FunctionsRepo } from "./repo.js";
import { versionNotFound } from "./rules.js";
import type { AliasPatch, AliasSpec } from "./spec.js";
import * as v from "./validate.js";

/**
 * The alias `aliasName` of `name`; on an update (`current`), fields the patch leaves out keep
 * their value, and kept routing weights are judged again against the new primary version.
 * Every version it names must exist.
 */
export async function buildAlias(
  store: Pick<FunctionsRepo, "getVersion">,
  arn: (name: string, qualifier?: string) => string,
  name: string,
  aliasName: string,
  input: AliasSpec | AliasPatch,
  current: Alias | undefined,
): Promise<Alias> {
  const functionVersion = input.functionVersion ?? current?.functionVersion ?? "";
  const weights = input.additionalVersionWeights ?? current?.additionalVersionWeights ?? {};
  const description = input.description ?? current?.description ?? "";
  v.report(
    current ? undefined : v.aliasName(aliasName),
    v.qualifier(functionVersion, "functionVersion") ?? v.functionVersion(functionVersion),
    v.description(description),
    v.routingWeights(weights),
  );
  const routed = Object.keys(weights);
  if (routed.includes(functionVersion)) {
    throw new NimbusError(
      "InvalidParameter",
      `Routing to the alias's own version ${functionVersion} is not allowed: name a second version`,
      {},
      [
        v.problem(
          `additionalVersionWeights.${functionVersion}`,
          weights[functionVersion],
          "consistent",
          "name a version other than functionVersion",
        ),
      ],
    );
  }
  if (routed.length > 0 && functionVersion === LATEST) {
    throw new NimbusError(
      "InvalidParameter",
      "Weighted routing needs the alias to point at a published version, not $LATEST",
      {},
      [
        v.problem(
          "functionVersion",
          functionVersion,
          "consistent",
          "be a published version when weights are set",
        ),
      ],
    );
  }
  if (!(await store.getVersion(name, functionVersion))) throw versionNotFound(arn(name, functionVersion));
  for (const ver of routed) {
    if (!(await store.getVersion(name, ver))) throw versionNotFound(arn(name, ver));
  }
  return {
    functionName: name,
    name: aliasName,
    functionVersion,
    description,
    additionalVersionWeights: { ...weights },
    revisionId: randomUUID(),
  };
}
