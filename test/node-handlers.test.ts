/**
 * End to end: the Node handler contract as an invoker sees it through @aws-sdk/client-lambda,
 * on Nimbus's own Node runtime: callback-style handlers and context.callbackWaitsForEmptyEventLoop,
 * and what a module that does not parse reports.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateFunctionCommand, InvokeCommand } from "@aws-sdk/client-lambda";
import { startPlatform, type TestPlatform, text, type ZipFiles, zipOf } from "./helpers/platform.js";

/** How long a handler leaves a timer pending after calling back. */
const PENDING_TIMER_MS = 300;

let t: TestPlatform;
before(async () => {
  t = await startPlatform();
});
after(async () => {
  await t.close();
});

async function deploy(name: string, files: ZipFiles, handler = "index.handler"): Promise<void> {
  const out = await t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs20.x",
      Handler: handler,
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: await zipOf(files) },
    }),
  );
  assert.equal(out.State, "Active");
}

interface Invoked {
  readonly functionError: string | undefined;
  readonly payload: unknown;
  readonly tail: string;
  /** The invocation's Duration from its REPORT line, in ms. */
  readonly durationMs: number;
}

async function invoke(name: string, event: unknown = {}): Promise<Invoked> {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: "Tail" }),
  );
  const tail = Buffer.from(out.LogResult ?? "", "base64").toString("utf8");
  const duration = /\tDuration: ([\d.]+) ms/.exec(tail);
  assert.ok(duration, `no REPORT Duration in the log tail:\n${tail}`);
  return {
    functionError: out.FunctionError,
    payload: JSON.parse(text(out.Payload)),
    tail,
    durationMs: Number(duration[1]),
  };
}

function assertAnswered(out: Invoked, expected: unknown): void {
  assert.equal(out.functionError, undefined, `${JSON.stringify(out.payload)}\n${out.tail}`);
  assert.deepEqual(out.payload, expected);
}

describe("callback handlers", () => {
  test("a handler that calls back at once, or from a timer, answers with what it called back", async () => {
    await deploy("callback-sync", {
      "index.js": `exports.handler = (event, context, callback) => {
        callback(null, { echo: event, via: "callback" });
      };`,
    });
    assertAnswered(await invoke("callback-sync", { n: 1 }), { echo: { n: 1 }, via: "callback" });
    // Warm, the same instance answers again.
    assertAnswered(await invoke("callback-sync", { n: 2 }), { echo: { n: 2 }, via: "callback" });

    await deploy("callback-timer", {
      "index.mjs": `export const handler = (event, context, callback) => {
        setTimeout(() => callback(null, "called back after 50 ms"), 50);
      };`,
    });
    const late = await invoke("callback-timer");
    assertAnswered(late, "called back after 50 ms");
    assert.ok(late.durationMs >= 50, `answered after ${late.durationMs} ms, before the callback`);
  });

  test("with callbackWaitsForEmptyEventLoop true the answer waits for the function's pending timer; set to false it goes at once", async () => {
    await deploy("callback-waits", {
      "index.js": `exports.handler = (event, context, callback) => {
        setTimeout(() => {}, ${PENDING_TIMER_MS});
        callback(null, { from: "callback", waits: context.callbackWaitsForEmptyEventLoop });
      };`,
    });
    const waited = await invoke("callback-waits");
    assertAnswered(waited, { from: "callback", waits: true });
    assert.ok(
      waited.durationMs >= PENDING_TIMER_MS,
      `answered after ${waited.durationMs} ms, before the ${PENDING_TIMER_MS} ms timer ended`,
    );

    await deploy("callback-no-wait", {
      "index.js": `exports.handler = (event, context, callback) => {
        context.callbackWaitsForEmptyEventLoop = false;
        setTimeout(() => {}, ${PENDING_TIMER_MS});
        callback(null, { from: "callback", waits: context.callbackWaitsForEmptyEventLoop });
      };`,
    });
    const atOnce = await invoke("callback-no-wait");
    assertAnswered(atOnce, { from: "callback", waits: false });
    assert.ok(
      atOnce.durationMs < PENDING_TIMER_MS,
      `answered after ${atOnce.durationMs} ms: it waited for the timer`,
    );
  });

  test("callback(error) fails the invocation with the error's name, message and trace", async () => {
    await deploy("callback-error", {
      "index.js": `exports.handler = (event, context, callback) => {
        callback(new Error("boom"));
      };`,
    });
    const out = await invoke("callback-error");
    assert.equal(out.functionError, "Unhandled");
    const body = out.payload as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(body.errorType, "Error");
    assert.equal(body.errorMessage, "boom");
    assert.equal(body.trace[0], "Error: boom");
    assert.match(body.trace[1] ?? "", /^\s+at .*index\.js:2:\d+/);
    assert.match(out.tail, /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"boom"/);
  });

  test("the first completion wins: a second callback is ignored, and so is a callback after the promise settled", async () => {
    await deploy("callback-twice", {
      "index.js": `exports.handler = (event, context, callback) => {
        callback(null, "first");
        callback(null, "second");
        callback(new Error("third"));
      };`,
    });
    assertAnswered(await invoke("callback-twice"), "first");

    // An async handler that also takes callback answers when its promise settles, without
    // waiting for the event loop: the callback from the timer comes too late.
    await deploy("async-with-callback", {
      "index.mjs": `export const handler = async (event, context, callback) => {
        setTimeout(() => callback(null, "from callback"), 10);
        setTimeout(() => {}, ${PENDING_TIMER_MS});
        return "from promise";
      };`,
    });
    const out = await invoke("async-with-callback");
    assertAnswered(out, "from promise");
    assert.ok(
      out.durationMs < PENDING_TIMER_MS,
      `answered after ${out.durationMs} ms: it waited for the timer`,
    );
  });

  test("an async handler whose promise can no longer settle fails at once instead of timing out", async () => {
    await deploy("never-settles", {
      "index.mjs": `export const handler = () => new Promise(() => {});`,
    });
    const out = await invoke("never-settles");
    assert.equal(out.functionError, "Unhandled");
    const body = out.payload as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, "Runtime.NodeJsExit");
    assert.match(body.errorMessage, /the handler's promise never settled/);
  });
});

describe("syntax errors", () => {
  interface Case {
    readonly name: string;
    readonly files: ZipFiles;
    readonly handler?: string;
    /** The faulty file, relative to the task root, its line and Node's message. */
    readonly file: string;
    readonly line: number;
    readonly column: number;
    readonly message: string;
    /** The faulty line, as the trace shows it. */
    readonly source: string;
  }

  // Functions whose code is broken on purpose, as strings: the linter must not see them.
  const unexpectedBrace = "export const handler = async () => {\n  return 1;\n}\n}\n";
  const unexpectedSemicolon = "exports.handler = async () => {\n  return { a: 1 ;\n};\n";
  const doubleComma = (exported: string) => `${exported} {\n  a: 1,,\n};\n`;

  async function assertSyntaxError(c: Case): Promise<void> {
    await deploy(c.name, c.files, c.handler);
    const out = await invoke(c.name);
    assert.equal(out.functionError, "Unhandled", c.name);
    const body = out.payload as { errorType: string; errorMessage: string; trace: string[] };
    const message = `SyntaxError: ${c.message} (${c.file}:${c.line}:${c.column})`;
    assert.deepEqual(
      { errorType: body.errorType, errorMessage: body.errorMessage },
      { errorType: "Runtime.UserCodeSyntaxError", errorMessage: message },
      c.name,
    );
    // The trace starts as Node prints a parse error: the file as the function sees it, the line
    // and a caret under the fault.
    const [head, source, caret] = body.trace;
    if (t.platform.worker.sandbox === "jail") {
      assert.equal(head, `/var/task/${c.file}:${c.line}`);
      const seen = JSON.stringify(body) + out.tail;
      assert.ok(!seen.includes(t.dataDir), `a host path leaked: ${seen}`);
    } else {
      assert.ok(head?.startsWith("/") && head.endsWith(`/${c.file}:${c.line}`), head);
    }
    assert.equal(source, c.source);
    assert.equal(caret, `${" ".repeat(c.column - 1)}^`);
    // The function's log says so too, with the same message.
    assert.ok(
      out.tail.includes(
        `\tERROR\tInit Error \t{"errorType":"Runtime.UserCodeSyntaxError","errorMessage":${JSON.stringify(message)}`,
      ),
      out.tail,
    );
  }

  test("an ES module handler that does not parse names its file, line and column", async () => {
    await assertSyntaxError({
      name: "syntax-mjs",
      files: { "index.mjs": unexpectedBrace },
      file: "index.mjs",
      line: 4,
      column: 1,
      message: "Unexpected token '}'",
      source: "}",
    });
    await assertSyntaxError({
      name: "syntax-type-module",
      files: { "package.json": '{"type":"module"}', "index.js": unexpectedBrace },
      file: "index.js",
      line: 4,
      column: 1,
      message: "Unexpected token '}'",
      source: "}",
    });
  });

  test("a CommonJS handler that does not parse names its file, line and column", async () => {
    await assertSyntaxError({
      name: "syntax-js",
      files: { "index.js": unexpectedSemicolon },
      file: "index.js",
      line: 2,
      column: 17,
      message: "Unexpected token ';'",
      source: "  return { a: 1 ;",
    });
    await assertSyntaxError({
      name: "syntax-cjs",
      files: { "app.cjs": unexpectedSemicolon },
      handler: "app.handler",
      file: "app.cjs",
      line: 2,
      column: 17,
      message: "Unexpected token ';'",
      source: "  return { a: 1 ;",
    });
  });

  test("a syntax error in a file the handler imports names that file", async () => {
    await assertSyntaxError({
      name: "syntax-esm-import",
      files: {
        "index.mjs":
          'import { settings } from "./lib/settings.mjs";\nexport const handler = async () => settings;\n',
        "lib/settings.mjs": doubleComma("export const settings ="),
      },
      file: "lib/settings.mjs",
      line: 2,
      column: 8,
      message: "Unexpected token ','",
      source: "  a: 1,,",
    });
    await assertSyntaxError({
      name: "syntax-cjs-require",
      files: {
        "index.js": 'const settings = require("./lib/settings");\nexports.handler = async () => settings;\n',
        "lib/settings.js": doubleComma("module.exports ="),
      },
      file: "lib/settings.js",
      line: 2,
      column: 8,
      message: "Unexpected token ','",
      source: "  a: 1,,",
    });
  });
});
