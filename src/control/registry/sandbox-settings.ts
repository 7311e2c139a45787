/**
 * Validation of a function's sandbox settings (`PUT /nimbus/v1/functions/{name}/sandbox`):
 * the tier must run on this platform, and a network needs a tier that can give one.
 */
import {
  type FunctionSandbox,
  isLoopback,
  MAX_ALLOWED_DESTINATIONS,
  parseDestination,
  SANDBOX_TIERS,
  type SandboxTier,
} from "../../protocol/sandbox.js";
import { NimbusError } from "../../shared/errors.js";

/** What the platform's sandboxes can do: why a tier, or a network in a tier, is unavailable. */
export interface SandboxCapabilities {
  /** The tier instances run in when a function names none. */
  readonly defaultTier: SandboxTier;
  /** Why the tier cannot run here; undefined when it can. */
  tierProblem(tier: SandboxTier): string | undefined;
  /** Why instances of the tier cannot be given a network here; undefined when they can. */
  networkProblem(tier: SandboxTier): string | undefined;
}

const bad = (message: string) => new NimbusError("InvalidParameter", message);

export function checkSandbox(body: Record<string, unknown>, caps: SandboxCapabilities): FunctionSandbox {
  for (const key of Object.keys(body))
    if (!["tier", "internet", "allow"].includes(key))
      throw bad(`unknown sandbox setting ${JSON.stringify(key)}: the settings are tier, internet and allow`);
  const { internet = false, allow = [] } = body;
  // "default" (what GET answers when none is set) means the platform's default tier.
  const tier = body.tier === "default" ? undefined : body.tier;
  if (tier !== undefined && !(SANDBOX_TIERS as readonly unknown[]).includes(tier))
    throw bad(`tier must be one of default, ${SANDBOX_TIERS.join(", ")}; got ${JSON.stringify(tier)}`);
  if (typeof internet !== "boolean")
    throw bad(`internet must be true or false; got ${JSON.stringify(internet)}`);
  if (!Array.isArray(allow) || allow.some((a) => typeof a !== "string"))
    throw bad(`allow must be a list of destinations such as "10.0.0.5:5432"; got ${JSON.stringify(allow)}`);
  if (allow.length > MAX_ALLOWED_DESTINATIONS)
    throw bad(`allow lists at most ${MAX_ALLOWED_DESTINATIONS} destinations; got ${allow.length}`);
  for (const a of allow as string[]) {
    let d: ReturnType<typeof parseDestination>;
    try {
      d = parseDestination(a);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (isLoopback(d) && (d.address !== "127.0.0.1" || d.prefix !== 32))
      throw bad(
        `${JSON.stringify(a)}: of the host's loopback only 127.0.0.1 can be allowed (instances reach it as host.nimbus.internal)`,
      );
  }
  const settings: FunctionSandbox = {
    ...(tier === undefined ? {} : { tier: tier as SandboxTier }),
    internet,
    allow: [...new Set(allow as string[])],
  };
  const effective = settings.tier ?? caps.defaultTier;
  const tierProblem = settings.tier === undefined ? undefined : caps.tierProblem(settings.tier);
  if (tierProblem)
    throw bad(`the ${settings.tier} sandbox is not available on this platform: ${tierProblem}`);
  if (internet || settings.allow.length > 0) {
    const problem = caps.networkProblem(effective);
    if (problem)
      throw bad(`instances in the ${effective} sandbox cannot be given a network here: ${problem}`);
  }
  return settings;
}
