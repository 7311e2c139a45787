/** An alias as a create or update would store it, checked against the versions that exist. */
import { randomUUID } from "node:crypto";
import { type Alias, LATEST } from "../../protocol/function.js";
import type { AliasInput } from "./inputs.js";
import type { FunctionsRepo } from "./repo.js";
import { versionNotFound } from "./rules.js";
import * as v from "./validate.js";

/**
 * The alias `aliasName` of `name` from `input`; on an update (`current`), fields the input
 * leaves out keep their value, and kept routing weights are judged again against the new
 * primary version. Every version it names must exist.
 */
export async function buildAlias(
  store: Pick<FunctionsRepo, "getVersion">,
  arn: (name: string, qualifier?: string) => string,
  name: string,
  aliasName: string,
  input: AliasInput,
  current: Alias | undefined,
): Promise<Alias> {
  const functionVersion =
    input.FunctionVersion === undefined && current
      ? current.functionVersion
      : v.checkQualifier(input.FunctionVersion);
  if (functionVersion !== LATEST && !/^\d+$/.test(functionVersion)) {
    throw v.invalid("functionVersion", functionVersion, "Member must be $LATEST or a version number");
  }
  if (!(await store.getVersion(name, functionVersion))) throw versionNotFound(arn(name, functionVersion));
  const weights = v.checkRoutingWeights(
    input.RoutingConfig === undefined
      ? current?.additionalVersionWeights
      : input.RoutingConfig?.AdditionalVersionWeights,
    functionVersion,
  );
  for (const ver of Object.keys(weights)) {
    if (!(await store.getVersion(name, ver))) throw versionNotFound(arn(name, ver));
  }
  return {
    functionName: name,
    name: aliasName,
    functionVersion,
    description:
      input.Description === undefined ? (current?.description ?? "") : v.checkDescription(input.Description),
    additionalVersionWeights: weights,
    revisionId: randomUUID(),
  };
}
