/**
 * What a contract suite is given: a way to open a fresh, empty store of one implementation,
 * and what every suite builds its records from.
 */
import type { FunctionsRepo } from "../../control/registry/repo.js";
import type { Alias, FunctionVersion } from "../../protocol/function.js";
import { LATEST } from "../../protocol/function.js";

/** A fresh, empty repository; `close` releases it and whatever was made for it. */
export interface Harness<R> {
  readonly repo: R;
  /** The same store's functions, for suites whose records belong to a function. */
  readonly functions: FunctionsRepo;
  close(): Promise<void>;
}

export type OpenRepo<R> = () => Promise<Harness<R>>;

/** Runs `body` on a fresh repository and closes it, whether the body passes or throws. */
export async function withRepo<R>(open: OpenRepo<R>, body: (h: Harness<R>) => Promise<void>): Promise<void> {
  const h = await open();
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** 2026-12-01T00:00:00.000Z, epoch ms: past 2^32, so a store that narrowed it would show. */
export const T0_MS = 1_796_083_200_000;

/** A $LATEST version of `name`, with every optional field set; `patch` overrides. */
export function version(name: string, patch: Partial<FunctionVersion> = {}): FunctionVersion {
  return {
    functionName: name,
    version: LATEST,
    runtime: "nodejs20.x",
    handler: "index.handler",
    memoryMb: 128,
    timeoutS: 3,
    environment: { STAGE: "test" },
    description: "",
    role: "arn:aws:iam::000000000000:role/nimbus-function",
    packageId: `pkg-${name}`,
    codeSha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
    codeSize: 321,
    revisionId: `rev-${name}-1`,
    lastModified: T0_MS,
    architecture: "x86_64",
    deadLetterTarget: "arn:aws:lambda:us-east-1:000000000000:function:dlq",
    snapStart: "PublishedVersions",
    ephemeralStorageMb: 1024,
    ...patch,
  };
}

/** What `make` of `publishVersion` gets from the registry: a copy of $LATEST under the number. */
export function published(latest: FunctionVersion): (n: number) => FunctionVersion {
  return (n) => ({ ...latest, version: String(n), revisionId: `${latest.revisionId}-v${n}` });
}

export function alias(functionName: string, name: string, patch: Partial<Alias> = {}): Alias {
  return {
    functionName,
    name,
    functionVersion: "1",
    description: "",
    additionalVersionWeights: {},
    revisionId: `rev-${name}-1`,
    ...patch,
  };
}
