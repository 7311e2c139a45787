// The Node runtime inside each sandbox, started as `node bootstrap.js` with a clean environment.
// From the handler's side it behaves like AWS's nodejs20.x runtime (aws-lambda-ric); see README.md.
// It imports nothing from the project and only node built-ins, and it works both as the ES module
// tsc emits and bundled to CommonJS (no import.meta, no top-level await).
import { unlink } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { format } from "node:util";
import { startupSnapshot } from "node:v8";
import {
  encodeFrame,
  FrameDecoder,
  SNAPSHOT_HANDLER_GLOBAL,
  SNAPSHOT_RUNTIME_GLOBAL,
} from "../../protocol/runtime-frames.js";
import { FramedRuntimeApiClient } from "./framed-client.js";
import { type Handler, loadHandler } from "./handler-loader.js";
import { installNimbusGlobal } from "./nimbus-global.js";
import { isThenable, type Outcome } from "./outcome.js";
import { type ApiResponse, HEADER, LambdaError, type RuntimeApi } from "./runtime-api-client.js";
import {
  checkStreamingMark,
  installAwsLambdaGlobal,
  ResponseStream,
  runStreamingHandler,
  streamingOf,
} from "./streaming.js";
import { installTraceEnv, setTraceId, settingsEnv } from "./trace-env.js";

interface Invocation {
  readonly requestId: string;
  answered: boolean;
  /** A streaming handler's response stream: a crash ends it with the error, as a failure would. */
  stream?: ResponseStream;
}

interface Runtime {
  readonly client: RuntimeApi;
  initialised: boolean;
  /** Set as soon as the process is going down, so that it asks for no more work. */
  crashing: boolean;
  /** The invocation being handled; stays set after it is answered until the next one arrives. */
  current: Invocation | undefined;
  /** Called when the event loop drains during an invocation (Node's beforeExit). */
  onDrain: (() => void) | undefined;
}

/** Routes console.* to stdout in Lambda's text format, each line tagged with the request id. */
function patchConsole(requestId: () => string | undefined): void {
  const write =
    (level: string) =>
    (...args: unknown[]): void => {
      // Before the first invoke the id prints as "undefined", as on AWS.
      const line = `${new Date().toISOString()}\t${requestId()}\t${level}\t${format(...args)}`;
      // One record per line: the platform splits records on "\n", so a multi-line message keeps "\r".
      process.stdout.write(`${line.replaceAll("\n", "\r")}\n`);
    };
  console.log = console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
  Object.assign(console, { fatal: write("FATAL") });
}

/** Logs an error as aws-lambda-ric does: `{label} \t{"errorType",…,"stack":[lines]}` at ERROR. */
function logError(label: string, error: unknown): void {
  const err = error instanceof Error ? error : new Error(safeString(error));
  let json: string;
  try {
    json = JSON.stringify(err, (_key, value: unknown) =>
      value instanceof Error
        ? {
            errorType: value.name,
            errorMessage: value.message,
            code: (value as NodeJS.ErrnoException).code,
            ...value,
            stack: typeof value.stack === "string" ? value.stack.split("\n") : value.stack,
          }
        : value,
    );
  } catch {
    json = JSON.stringify({ errorType: err.name, errorMessage: err.message });
  }
  console.error(label, `\t${json}`);
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * A pooled runtime (`NIMBUS_POOLED=1`) starts before any function is chosen for it. It
 * rehearses, connects to its Runtime API and waits there for a function (`await-function`):
 * the answer is the instance's whole environment, which it takes as its own before moving
 * into the function's directory. From there on it is an ordinary start, on that connection.
 */
async function assignment(socket: string): Promise<RuntimeApi> {
  await rehearse();
  const client = new FramedRuntimeApiClient(socket);
  const env = await client.awaitFunction();
  delete process.env.NIMBUS_POOLED;
  Object.assign(process.env, env);
  if (env.LAMBDA_TASK_ROOT) process.chdir(env.LAMBDA_TASK_ROOT);
  return client;
}

/** Rehearsals before the real thing: the third import of a module costs half the second. */
const REHEARSALS = 3;

/**
 * Loads and invokes the runtime's own trivial handlers (`prewarm-N.mjs`, beside this file),
 * answering to nobody: Node's ES module loader gets set up, and its code and the runtime's run
 * until V8 has them compiled and their caches warm, while a pooled runtime waits (or a
 * provisioned instance initialises), not during the invocation it will serve. Best effort.
 */
async function rehearse(): Promise<void> {
  try {
    for (let i = 1; i <= REHEARSALS; i++)
      await rehearseOverSocket(await loadHandler(dirname(process.argv[1] ?? "."), `prewarm-${i}.handler`));
  } catch {
    // Only slower: the cold start does the same work.
  }
}

/**
 * One invocation of `handler` through a real framed client, against a throwaway frame server
 * on a Unix socket in the sandbox's /tmp (removed at once): the socket, frame and client code
 * of the first real invocation then runs for the second time, not the first.
 */
async function rehearseOverSocket(handler: Handler): Promise<void> {
  const dir = process.env.TMPDIR;
  if (!dir) return;
  const path = join(dir, `.nimbus-rehearsal-${process.pid}.sock`);
  const event = encodeFrame(
    {
      op: "event",
      headers: {
        [HEADER.requestId]: "rehearsal",
        [HEADER.deadlineMs]: String(Date.now() + 1000),
        [HEADER.functionArn]: "rehearsal",
      },
    },
    "{}",
  );
  const server = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      // Every call of the rehearsal (next, then a response that asks for the next) gets an event.
      for (const _ of decoder.push(chunk)) socket.write(event);
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  const client = new FramedRuntimeApiClient(path);
  try {
    const rehearsal: Runtime = {
      client,
      initialised: true,
      crashing: false,
      current: undefined,
      onDrain: undefined,
    };
    await invoke(rehearsal, handler, await client.next());
  } finally {
    client.close();
    server.close();
    await unlink(path).catch(() => {});
  }
}

async function main(): Promise<void> {
  // First: whatever the function's module and the pooled runtime's assignment capture is the proxy.
  installTraceEnv();
  let runtime: Runtime | undefined;
  patchConsole(() => runtime?.current?.requestId);
  const pooledSocket = process.env.NIMBUS_POOLED === "1" ? process.env.NIMBUS_RUNTIME_API_SOCKET : undefined;
  const connected = pooledSocket ? await assignment(pooledSocket) : undefined;
  const env = process.env;
  runtime = {
    // Nimbus offers its own runtime a cheaper transport of the same API; HTTP otherwise.
    client: connected
      ? connected
      : env.NIMBUS_RUNTIME_API_SOCKET
        ? new FramedRuntimeApiClient(env.NIMBUS_RUNTIME_API_SOCKET)
        : new (await import("./http-client.js")).RuntimeApiClient(env.AWS_LAMBDA_RUNTIME_API ?? ""),
    initialised: false,
    crashing: false,
    current: undefined,
    onDrain: undefined,
  };
  installCrashHandlers(runtime);
  // A provisioned instance's init is off every request's path: rehearse there too, so that its
  // first invocation does not run the runtime's code for the first time.
  if (!pooledSocket && env.AWS_LAMBDA_INITIALIZATION_TYPE === "provisioned-concurrency") await rehearse();

  // Before the function's module runs: it may call awslambda.streamifyResponse at its top level.
  installAwsLambdaGlobal(env);
  installNimbusGlobal();
  let handler: Handler;
  const loading = performance.now();
  const restored = (globalThis as Record<string, unknown>)[SNAPSHOT_HANDLER_GLOBAL] as Handler | undefined;
  try {
    // Restored from a snapshot, the function's init is done and its handler at hand.
    handler = restored ?? (await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env._HANDLER));
    checkStreamingMark(handler);
    // One turn of the loop, so that a promise the module left rejected counts as an init failure.
    await new Promise((resolve) => setImmediate(resolve));
    if (runtime.crashing) return;
  } catch (err) {
    return crash(runtime, "Init Error", err);
  }
  runtime.initialised = true;
  let functionInitMs: number | undefined = performance.now() - loading;

  let prefetched: ApiResponse | undefined;
  while (!runtime.crashing) {
    const next = prefetched ?? (await runtime.client.next(functionInitMs));
    functionInitMs = undefined;
    prefetched = await invoke(runtime, handler, next);
  }
}

function installCrashHandlers(runtime: Runtime): void {
  process.on("uncaughtException", (error) => void crash(runtime, "Uncaught Exception", error));
  process.on("unhandledRejection", (reason) => {
    const error = new LambdaError("Runtime.UnhandledPromiseRejection", safeString(reason));
    void crash(runtime, "Unhandled Promise Rejection", error);
  });
  process.on("beforeExit", () => {
    const onDrain = runtime.onDrain;
    runtime.onDrain = undefined;
    if (onDrain !== undefined) return onDrain();
    // Only a module whose top-level await never settles leaves the loop empty outside an invoke.
    void crash(
      runtime,
      "Init Error",
      new LambdaError("Runtime.NodeJsExit", "the handler module never finished loading"),
    );
  });
}

// As AWS does: report the failure where the platform can still attribute it (init, or the
// unanswered invocation), then exit; the platform turns the exit into Runtime.ExitError.
// Only the first failure is reported, so a module that both throws and leaves a rejected
// promise behind posts one init error.
async function crash(runtime: Runtime, label: string, error: unknown): Promise<void> {
  logError(label, error);
  if (runtime.crashing) return;
  runtime.crashing = true;
  const current = runtime.current;
  if (!runtime.initialised) {
    await runtime.client.postInitError(error).catch(() => undefined);
  } else if (current?.stream && !current.answered) {
    current.answered = true;
    await current.stream.fail(error);
  } else if (current !== undefined && !current.answered) {
    current.answered = true;
    await runtime.client.postError(current.requestId, error).catch(() => undefined);
  }
  process.exit(1);
}

/** Runs one invocation; resolves with the next event when answering fetched it already. */
async function invoke(
  runtime: Runtime,
  handler: Handler,
  next: ApiResponse,
): Promise<ApiResponse | undefined> {
  const header = (name: string): string | undefined => {
    const value = next.headers[name];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const requestId = header(HEADER.requestId);
  const deadlineMs = Number.parseInt(header(HEADER.deadlineMs) ?? "", 10);
  const functionArn = header(HEADER.functionArn);
  if (requestId === undefined || Number.isNaN(deadlineMs) || functionArn === undefined) {
    throw new Error(
      `/next answered without ${HEADER.requestId}, a numeric ${HEADER.deadlineMs} or ${HEADER.functionArn}`,
    );
  }
  const invocation: Invocation = { requestId, answered: false };
  runtime.current = invocation;
  const traceId = header(HEADER.traceId);
  setTraceId(traceId);

  let outcome: Outcome;
  try {
    const event = parseJson(next.body, "the event");
    const env = settingsEnv();
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseJson(header(HEADER.clientContext), HEADER.clientContext),
      identity: parseJson(header(HEADER.cognitoIdentity), HEADER.cognitoIdentity),
      invokedFunctionArn: functionArn,
      awsRequestId: requestId,
      tenantId: header(HEADER.tenantId),
      xRayTraceId: traceId,
      getRemainingTimeInMillis: () => deadlineMs - Date.now(),
    };
    const streaming = streamingOf(handler);
    if (streaming) {
      await invokeStreaming(runtime, handler, event, context, invocation, streaming.highWaterMark);
      return undefined;
    }
    outcome = await runHandler(runtime, handler, event, context);
  } catch (err) {
    // Only parseJson throws here: the handler's own failures come back as outcomes.
    outcome = { ok: false, error: err };
  }
  return answer(runtime, invocation, outcome);
}

// The AWS runtime crashes on an unparsable event; reporting it keeps the sandbox and says why.
function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LambdaError(
      "Runtime.UnmarshalError",
      `cannot parse ${what} as JSON: ${(err as Error).message}`,
    );
  }
}

/**
 * Runs one invocation and settles with its outcome, following nodejs20.x:
 * - a handler with 3+ parameters is callback style: the first of callback / context.done /
 *   succeed / fail to be called, or of a returned promise to settle, wins; `callback(null,
 *   result)` with `callbackWaitsForEmptyEventLoop` true answers only once the event loop drains
 *   (beforeExit), so the result is serialised then; one that never calls back answers null at
 *   the drain;
 * - any other handler answers with what it returns or resolves to (a plain value included);
 *   an async one that never settles fails with Runtime.NodeJsExit when the loop drains.
 *
 * "The loop drains" means the function has no work left of its own: Node emits beforeExit
 * when nothing holds the loop, and the runtime holds nothing while the handler runs (its
 * Runtime API connection counts only while a call waits for a reply; AWS's native client
 * holds nothing then either). Other ways were weighed: process.getActiveResourcesInfo()
 * names only resource types, so the runtime's socket and the function's look alike, and it
 * must be polled on a timer; async_hooks could follow what the invocation creates, but an
 * enabled hook taxes every promise of every handler, async ones included, and misses what
 * the function's init opened (a database pool), which Lambda does wait for. beforeExit costs
 * nothing until the loop is empty, and behaves the same on Node 20, 22 and 24.
 */
function runHandler(
  runtime: Runtime,
  handler: Handler,
  event: unknown,
  context: Record<string, unknown>,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let claimed = false;
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      runtime.onDrain = undefined;
      resolve(outcome);
    };
    const claim = (): boolean => {
      if (claimed) return false;
      claimed = true;
      return true;
    };
    const fail = (error: unknown): void => {
      if (claim()) settle({ ok: false, error });
    };
    // Node-style: a null or undefined error means success.
    const complete = (error: unknown, result?: unknown): void => {
      if (error != null) fail(error);
      else if (claim()) settle({ ok: true, result });
    };
    const callbackStyle = handler.length >= 3;
    runtime.onDrain = callbackStyle
      ? () => settle({ ok: true, result: null })
      : () =>
          settle({
            ok: false,
            error: new LambdaError(
              "Runtime.NodeJsExit",
              "Runtime exited without providing a reason: the handler's promise never settled",
            ),
          });

    context.done = complete;
    context.succeed = (result?: unknown) => complete(null, result);
    context.fail = (error?: unknown) => complete(error ?? "handled");
    const callback = (error?: unknown, result?: unknown): void => {
      // Read when callback is called, and by truthiness, as aws-lambda-ric does.
      if (error != null || !context.callbackWaitsForEmptyEventLoop) complete(error, result);
      else if (claim()) runtime.onDrain = () => settle({ ok: true, result });
    };

    let returned: unknown;
    try {
      returned = handler(event, context, callback);
    } catch (err) {
      return fail(err);
    }
    if (isThenable(returned)) {
      returned.then((result) => complete(null, result), fail);
    } else if (!callbackStyle) {
      complete(null, returned);
    }
  });
}

/**
 * A streaming handler's invocation, as aws-lambda-ric runs one: the handler gets `(event,
 * responseStream, context)` and must be async; the bytes it writes leave as it writes them;
 * ending the stream completes the invocation, and a failure (a throw, a rejection, a crash)
 * ends it with the error in its trailers. Its return value is ignored.
 */
async function invokeStreaming(
  runtime: Runtime,
  handler: Handler,
  event: unknown,
  context: Record<string, unknown>,
  invocation: Invocation,
  highWaterMark: number | undefined,
): Promise<void> {
  const stream = new ResponseStream(runtime.client.openStream(invocation.requestId), highWaterMark);
  invocation.stream = stream;
  const outcome = await runStreamingHandler(runtime, handler, event, context, stream);
  if (invocation.answered) return;
  invocation.answered = true;
  if (outcome.ok) return stream.answered;
  logError("Invoke Error", outcome.error);
  return stream.fail(outcome.error);
}

/** Posts the outcome; resolves with the next event if the transport fetched it in the same exchange. */
async function answer(
  runtime: Runtime,
  invocation: Invocation,
  outcome: Outcome,
): Promise<ApiResponse | undefined> {
  if (invocation.answered) return undefined;
  invocation.answered = true;
  if (outcome.ok) {
    const json = serialise(outcome.result);
    if (json !== undefined) {
      const client = runtime.client;
      if (client.respondThenNext && !runtime.crashing)
        return client.respondThenNext(invocation.requestId, json);
      await client.postResponse(invocation.requestId, json);
      return undefined;
    }
    outcome = {
      ok: false,
      error: new LambdaError("Runtime.JSONStringifyError", "Unable to stringify response body"),
    };
  }
  logError("Invoke Error", outcome.error);
  await runtime.client.postError(invocation.requestId, outcome.error);
  return undefined;
}

/** The response body, or undefined when the result cannot be serialised (a cycle, a BigInt). */
function serialise(result: unknown): string | undefined {
  try {
    // JSON.stringify gives undefined for undefined, functions and symbols; the AWS runtime sends null.
    return JSON.stringify(result) ?? "null";
  } catch {
    return undefined;
  }
}

function start(): void {
  main().catch((err: unknown) => {
    logError("Runtime Error", err);
    process.exit(1);
  });
}

// Loaded inside a snapshot being built, the runtime waits: the snapshot's main function starts
// it after each restore.
if (startupSnapshot?.isBuildingSnapshot())
  (globalThis as Record<string, unknown>)[SNAPSHOT_RUNTIME_GLOBAL] = start;
else start();
