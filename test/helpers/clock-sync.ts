/**
 * For a platform on a test's clock that runs ahead of the real one: SDK clients sign as of
 * that clock. The SDK corrects its offset from each answer's Date header (the real time), so
 * the offset is set again before every request is signed.
 */
import type { Clock } from "../../src/shared/clock.js";

interface SdkClient {
  config: { systemClockOffset?: number };
  middlewareStack: {
    add(
      m: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      o: { step: "build"; name: string },
    ): void;
  };
}

export function signAsOf<T>(client: T, clock: Clock): T {
  const c = client as unknown as SdkClient;
  c.middlewareStack.add(
    (next) => (args) => {
      c.config.systemClockOffset = clock.now() - Date.now();
      return next(args);
    },
    { step: "build", name: "signAsOfPlatformClock" },
  );
  return client;
}
