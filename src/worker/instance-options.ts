/** What an instance is made with (`instance.ts`). */
import type { FunctionVersion } from "../protocol/function.js";
import type { LogSink } from "../protocol/invoke.js";
import type { Clock } from "../shared/clock.js";
import type { Instance } from "./instance.js";
import type { LookupBudget } from "./runtime-api/peer.js";
import type { RuntimeApiServer } from "./runtime-api/server.js";

export interface InstanceOptions {
  readonly id: string;
  readonly workerId: string;
  readonly fn: FunctionVersion;
  readonly clock: Clock;
  readonly logs: LogSink;
  readonly initTimeoutMs: number;
  /** Accept Runtime API connections only from the sandbox's own uid (it has one of its own). */
  readonly checkPeerUid: boolean;
  /** Peer lookups shared by the worker's instances (see LookupBudget). */
  readonly lookups?: LookupBudget;
  readonly onDead: (instance: Instance) => void;
  /** A Runtime API already listening (a pooled runtime's); its owner puts `target` behind it. */
  readonly api?: RuntimeApiServer;
}
