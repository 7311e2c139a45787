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

/** Once installed: the real environment, and the trace id the proxy holds. */
let installed:
  | { real: NodeJS.ProcessEnv; proxy: NodeJS.ProcessEnv; trace: () => string | undefined }
  | undefined;

/**
 * A plain copy of `process.env`, the trace id in it: what a spread of the proxy gives, without
 * its traps per variable (~2 µs each on a slow machine, paid on every call of a web handler).
 */
export function copyEnv(): Record<string, string | undefined> {
  // Not installed, or the function put an object of its own in process.env's place.
  if (installed === undefined || process.env !== installed.proxy) return { ...process.env };
  const copy: Record<string, string | undefined> = { ...installed.real };
  const trace = installed.trace();
  if (trace !== undefined) copy[TRACE_ID_ENV] = trace;
  return copy;
}

/**
 * Replaces `process.env` with the proxy. Returns what sets the trace id (undefined: unset), the
 * real environment for the runtime's own reads (a read through a proxy costs ~1 µs more) while
 * `process.env` is still the proxy, and the proxy.
 */
export function installTraceEnv(): {
  set: (traceId: string | undefined) => void;
  real: NodeJS.ProcessEnv;
  proxy: NodeJS.ProcessEnv;
} {
  const real = process.env;
  let trace = real[TRACE_ID_ENV];
  // From now on the proxy alone holds it.
  delete real[TRACE_ID_ENV];
  const ours = (key: string | symbol): key is typeof TRACE_ID_ENV => key === TRACE_ID_ENV;
  const proxy: NodeJS.ProcessEnv = new Proxy(real, {
    get: (target, key) => (ours(key) ? trace : Reflect.get(target, key)),
    set: (target, key, value) => {
      if (!ours(key)) return Reflect.set(target, key, value);
      // As the real environment does: every value is stored as a string.
      trace = String(value);
      return true;
    },
    has: (target, key) => (ours(key) ? trace !== undefined : Reflect.has(target, key)),
    deleteProperty: (target, key) => {
      if (!ours(key)) return Reflect.deleteProperty(target, key);
      trace = undefined;
      return true;
    },
    ownKeys: (target) => {
      const keys = Reflect.ownKeys(target);
      if (trace !== undefined) keys.push(TRACE_ID_ENV);
      return keys;
    },
    getOwnPropertyDescriptor: (target, key) => {
      if (!ours(key)) return Reflect.getOwnPropertyDescriptor(target, key);
      return trace === undefined
        ? undefined
        : { value: trace, writable: true, enumerable: true, configurable: true };
    },
    defineProperty: (target, key, descriptor) => {
      if (!ours(key)) return Reflect.defineProperty(target, key, descriptor);
      // The real environment takes only plain values, too.
      if (!("value" in descriptor)) return false;
      trace = String(descriptor.value);
      return true;
    },
  });
  process.env = proxy;
  installed = { real, proxy, trace: () => trace };
  return {
    set: (traceId) => {
      trace = traceId;
      // A function may put an object of its own in process.env's place: the id goes there too.
      if (process.env === proxy) return;
      if (traceId === undefined) delete process.env[TRACE_ID_ENV];
      else process.env[TRACE_ID_ENV] = traceId;
    },
    real,
    proxy,
  };
}
