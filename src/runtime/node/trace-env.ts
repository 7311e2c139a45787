// `process.env._X_AMZN_TRACE_ID`, set for each invocation as Lambda's Node runtime sets it, without
// setenv(3). glibc keeps every value ever given to setenv (an old one is never freed, so that a
// pointer getenv returned stays valid), and each invocation brings a new trace id: set the
// usual way, a warm runtime grew by ~150 bytes a call, 150 MB a million calls, until a small
// function was killed for its memory. So the runtime's `process.env` becomes a proxy of the real
// one that keeps this one variable in JavaScript; every other name reads and writes the real
// environment as before. Child processes still get it (Node builds their environment from
// `process.env`'s keys); what does not see it is native code calling getenv(3) and a worker
// thread started with the default environment (Node hands it the real one).

export const TRACE_ID_ENV = "_X_AMZN_TRACE_ID";

/** Once installed: the real environment, the proxy in its place, and the trace id it holds. */
let installed: { real: NodeJS.ProcessEnv; proxy: NodeJS.ProcessEnv; trace: string | undefined } | undefined;

/** Installed, and `process.env` still the proxy (a function may put an object of its own there). */
function live(): typeof installed {
  return installed !== undefined && process.env === installed.proxy ? installed : undefined;
}

/** Sets the trace id for an invocation (undefined: unset); without the proxy, on `process.env` itself. */
export function setTraceId(traceId: string | undefined): void {
  if (installed !== undefined) installed.trace = traceId;
  if (live()) return;
  if (traceId === undefined) delete process.env[TRACE_ID_ENV];
  else process.env[TRACE_ID_ENV] = traceId;
}

/** Where the runtime reads its own settings: the real environment behind the proxy (a read through it costs ~1 µs more). */
export function settingsEnv(): NodeJS.ProcessEnv {
  return live()?.real ?? process.env;
}

/**
 * A plain copy of `process.env`, the trace id in it: what a spread of the proxy gives, without
 * its traps per variable (~2 µs each on a slow machine, paid on every call of a web handler).
 */
export function copyEnv(): Record<string, string | undefined> {
  const env = live();
  if (env === undefined) return { ...process.env };
  const copy: Record<string, string | undefined> = { ...env.real };
  if (env.trace !== undefined) copy[TRACE_ID_ENV] = env.trace;
  return copy;
}

/** Replaces `process.env` with the proxy; `setTraceId` then sets the variable there. */
export function installTraceEnv(): void {
  const real = process.env;
  const state: NonNullable<typeof installed> = { real, proxy: real, trace: real[TRACE_ID_ENV] };
  // From now on the proxy alone holds it.
  delete real[TRACE_ID_ENV];
  const ours = (key: string | symbol): key is typeof TRACE_ID_ENV => key === TRACE_ID_ENV;
  state.proxy = new Proxy(real, {
    get: (target, key) => (ours(key) ? state.trace : Reflect.get(target, key)),
    set: (target, key, value) => {
      if (!ours(key)) return Reflect.set(target, key, value);
      // As the real environment does: every value is stored as a string.
      state.trace = String(value);
      return true;
    },
    has: (target, key) => (ours(key) ? state.trace !== undefined : Reflect.has(target, key)),
    deleteProperty: (target, key) => {
      if (!ours(key)) return Reflect.deleteProperty(target, key);
      state.trace = undefined;
      return true;
    },
    ownKeys: (target) => {
      const keys = Reflect.ownKeys(target);
      if (state.trace !== undefined) keys.push(TRACE_ID_ENV);
      return keys;
    },
    getOwnPropertyDescriptor: (target, key) => {
      if (!ours(key)) return Reflect.getOwnPropertyDescriptor(target, key);
      return state.trace === undefined
        ? undefined
        : { value: state.trace, writable: true, enumerable: true, configurable: true };
    },
    defineProperty: (target, key, descriptor) => {
      if (!ours(key)) return Reflect.defineProperty(target, key, descriptor);
      // The real environment takes only plain values, too.
      if (!("value" in descriptor)) return false;
      state.trace = String(descriptor.value);
      return true;
    },
  });
  process.env = state.proxy;
  installed = state;
}
