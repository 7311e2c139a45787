/** Small rules and errors shared by the registry's operations. */

import type { FunctionVersion } from "../../protocol/function.js";
import { NimbusError } from "../../shared/errors.js";

export function sameConfig(a: FunctionVersion, b: FunctionVersion): boolean {
  return (
    a.runtime === b.runtime &&
    a.handler === b.handler &&
    a.memoryMb === b.memoryMb &&
    a.timeoutS === b.timeoutS &&
    JSON.stringify(a.environment) === JSON.stringify(b.environment) &&
    a.deadLetterTarget === b.deadLetterTarget &&
    a.snapStart === b.snapStart &&
    a.ephemeralStorageMb === b.ephemeralStorageMb
  );
}

export function checkRevision(actual: string, expected: unknown): void {
  if (expected !== undefined && expected !== actual) {
    throw new NimbusError(
      "PreconditionFailed",
      `The Revision Id provided does not match the latest Revision Id (${actual}). Call GetFunction/GetAlias to get the latest Revision Id`,
    );
  }
}

export function conflictExists(name: string): NimbusError {
  return new NimbusError("Conflict", `Function already exist: ${name}`);
}

/** `qualifiedArn` names the version, as Lambda's message does. */
export function versionNotFound(qualifiedArn: string): NimbusError {
  return new NimbusError("NotFound", `Function not found: ${qualifiedArn}`);
}

export function aliasNotFound(name: string, alias: string): NimbusError {
  return new NimbusError("NotFound", `Alias not found: ${name}:${alias}`);
}

/** ListFunctions' NextMarker. Opaque, so that a marker a caller made up is refused, not misread. */
export function listMarker(afterName: string): string {
  return Buffer.from(JSON.stringify({ after: afterName })).toString("base64url");
}

/** The function name a NextMarker continues after. */
export function readListMarker(marker: string): string {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(marker, "base64url").toString("utf8")) as { after?: unknown }).after;
  } catch {
    after = undefined;
  }
  if (typeof after !== "string" || after === "") {
    throw new NimbusError(
      "InvalidParameter",
      `Marker '${marker}' is not a NextMarker from a previous ListFunctions response; omit it to start at the first page`,
    );
  }
  return after;
}
