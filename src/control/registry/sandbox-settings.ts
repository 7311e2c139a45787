/**
 * Validation of a function's sandbox settings: every destination must parse, the tier must
 * run on this platform, and a network needs a tier that can give one. The surface that takes
 * them (`gateway/sandbox-api.ts`) checks its body's shape.
 */
import {
  type FunctionSandbox,
  isLoopback,
  MAX_ALLOWED_DESTINATIONS,
  parseDestination,
  type SandboxTier,
} from "../../protocol/sandbox.js";
import { NimbusError, type Problem } from "../../shared/errors.js";
import type { SandboxSpec } from "./spec.js";

/** What the platform's sandboxes can do: why a tier, or a network in a tier, is unavailable. */
export interface SandboxCapabilities {
  /** The tier instances run in when a function names none. */
  readonly defaultTier: SandboxTier;
  /** Why the tier cannot run here; undefined when it can. */
  tierProblem(tier: SandboxTier): string | undefined;
  /** Why instances of the tier cannot be given a network here; undefined when they can. */
  networkProblem(tier: SandboxTier): string | undefined;
}

const DESTINATION = 'be an IPv4 address or CIDR block with an optional port, e.g. "10.0.0.5:5432"';

const bad = (message: string, problem: Problem) =>
  new NimbusError("InvalidParameter", message, {}, [problem]);

/** The settings as stored: every destination parsed, the tier and the network available here. */
export function checkSandbox(spec: SandboxSpec, caps: SandboxCapabilities): FunctionSandbox {
  const { tier, internet = false, allow = [] } = spec;
  if (allow.length > MAX_ALLOWED_DESTINATIONS)
    throw bad(`allow lists at most ${MAX_ALLOWED_DESTINATIONS} destinations; got ${allow.length}`, {
      field: "allow",
      value: allow.length,
      rule: "entries",
      expected: `have at most ${MAX_ALLOWED_DESTINATIONS} entries`,
    });
  for (const [i, a] of allow.entries()) {
    const field = `allow.${i}`;
    let d: ReturnType<typeof parseDestination>;
    try {
      d = parseDestination(a);
    } catch (err) {
      throw bad((err as Error).message, { field, value: a, rule: "pattern", expected: DESTINATION });
    }
    if (isLoopback(d) && (d.address !== "127.0.0.1" || d.prefix !== 32))
      throw bad(
        `${JSON.stringify(a)}: of the host's loopback only 127.0.0.1 can be allowed (instances reach it as host.nimbus.internal)`,
        { field, value: a, rule: "oneOf", expected: "be 127.0.0.1 if it is on the host's loopback" },
      );
  }
  const settings: FunctionSandbox = {
    ...(tier === undefined ? {} : { tier }),
    internet,
    allow: [...new Set(allow)],
  };
  const effective = settings.tier ?? caps.defaultTier;
  const tierProblem = settings.tier === undefined ? undefined : caps.tierProblem(settings.tier);
  if (tierProblem)
    throw bad(`the ${settings.tier} sandbox is not available on this platform: ${tierProblem}`, {
      field: "tier",
      value: settings.tier,
      rule: "available",
      expected: `be a tier this platform runs (${tierProblem})`,
    });
  if (internet || settings.allow.length > 0) {
    const problem = caps.networkProblem(effective);
    if (problem)
      throw bad(`instances in the ${effective} sandbox cannot be given a network here: ${problem}`, {
        field: internet ? "internet" : "allow",
        value: internet ? internet : settings.allow,
        rule: "available",
        expected: `be left out: the ${effective} sandbox has no network here (${problem})`,
      });
  }
  return settings;
}
