/**
 * What the registry's callers ask for, in the platform's own terms: typed, with units in the
 * names, functions named by plain name (never an ARN). Each surface (the Lambda API, the
 * Nimbus API, a console or a template deploy) translates its own requests into these; the
 * registry checks the domain's rules (ranges, patterns, what exists) and reports what is wrong
 * field by field, under the names used here.
 */
import type { SandboxTier } from "../../protocol/sandbox.js";

export type Architecture = "x86_64" | "arm64";

/** A function's package: the zip itself, or one the code store already holds. */
export type CodeSource =
  | { readonly kind: "zip"; readonly zip: Buffer }
  | { readonly kind: "package"; readonly packageId: string };

/** A new function (its $LATEST version). Fields left out take the platform's defaults. */
export interface FunctionSpec {
  readonly functionName: string;
  readonly runtime: string;
  /** Required, except for `provided*` runtimes, which run `bootstrap`. */
  readonly handler?: string | undefined;
  readonly code: CodeSource;
  readonly memoryMb?: number | undefined;
  readonly timeoutS?: number | undefined;
  readonly environment?: Readonly<Record<string, string>> | undefined;
  readonly description?: string | undefined;
  readonly role?: string | undefined;
  readonly architecture?: Architecture | undefined;
  /**
   * What receives the event of a failed asynchronous invocation (no destination set): a
   * function's name, or a queue's ARN.
   */
  readonly deadLetterTarget?: string | undefined;
  readonly snapStart?: "PublishedVersions" | undefined;
  readonly ephemeralStorageMb?: number | undefined;
  /** Publishes version 1 once created. */
  readonly publish?: boolean | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/**
 * A change of $LATEST's configuration: fields left out keep their value; `null` clears a
 * setting that may be absent.
 */
export interface FunctionPatch {
  readonly runtime?: string | undefined;
  readonly handler?: string | undefined;
  readonly memoryMb?: number | undefined;
  readonly timeoutS?: number | undefined;
  readonly environment?: Readonly<Record<string, string>> | undefined;
  readonly description?: string | undefined;
  readonly role?: string | undefined;
  readonly deadLetterTarget?: string | null | undefined;
  readonly snapStart?: "PublishedVersions" | null | undefined;
  readonly ephemeralStorageMb?: number | undefined;
  /** Applies only if $LATEST is still at this revision. */
  readonly expectedRevision?: string | undefined;
}

/** New code for $LATEST. */
export interface CodeUpdate {
  readonly code: CodeSource;
  /** Checked against the platform's architecture; the function keeps its own. */
  readonly architecture?: Architecture | undefined;
  readonly publish?: boolean | undefined;
  /** Checks and stores the package, changes nothing, and answers as if it had. */
  readonly dryRun?: boolean | undefined;
  readonly expectedRevision?: string | undefined;
}

/** Publishing $LATEST as the next version. */
export interface PublishSpec {
  /** The version's own description; $LATEST's when left out. */
  readonly description?: string | undefined;
  /** Publishes only if $LATEST's code is this package (base64 sha256). */
  readonly codeSha256?: string | undefined;
  readonly expectedRevision?: string | undefined;
}

/** A new alias. */
export interface AliasSpec {
  readonly name: string;
  /** `$LATEST` or a published version number. */
  readonly functionVersion: string;
  readonly description?: string | undefined;
  /** Weighted routing: one other published version and the share (0 to 1) it receives. */
  readonly additionalVersionWeights?: Readonly<Record<string, number>> | undefined;
}

/** A change of an alias: fields left out keep their value (`{}` weights stop routing). */
export interface AliasPatch {
  readonly functionVersion?: string | undefined;
  readonly description?: string | undefined;
  readonly additionalVersionWeights?: Readonly<Record<string, number>> | undefined;
  readonly expectedRevision?: string | undefined;
}

/** A function's sandbox settings, replaced as a whole. */
export interface SandboxSpec {
  /** Undefined: the platform's default tier. */
  readonly tier?: SandboxTier | undefined;
  readonly internet?: boolean | undefined;
  /** Destinations: `CIDR` or `CIDR:port` (IPv4). */
  readonly allow?: readonly string[] | undefined;
}
