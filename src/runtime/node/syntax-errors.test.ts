import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type TestContext, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  excerpt,
  locateInModuleGraph,
  locationInFatalOutput,
  locationInStack,
  type SourceLocation,
  userCodeSyntaxError,
} from "./syntax-errors.js";

/** A directory of files written at test time: sources broken on purpose stay out of the linter's sight. */
function taskRoot(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-syntax-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function requireError(file: string): SyntaxError {
  try {
    createRequire(file)(file);
  } catch (err) {
    assert.ok(err instanceof SyntaxError, String(err));
    return err;
  }
  assert.fail(`${file} loaded`);
}

test("a CommonJS parse error's stack gives the file, line, column and the stack without Node's header", (t) => {
  const root = taskRoot(t, { "index.js": "exports.handler = async () => {\n  return { a: 1 ;\n};\n" });
  const found = locationInStack(requireError(join(root, "index.js")).stack ?? "");
  assert.ok(found);
  assert.deepEqual(found.at, {
    file: join(root, "index.js"),
    line: 2,
    column: 17,
    source: "  return { a: 1 ;",
    width: 1,
  });
  assert.match(found.rest, /^SyntaxError: Unexpected token ';'\n\s+at /);
});

test("an unexpected end of input is placed on the last line, with no column", (t) => {
  const root = taskRoot(t, { "index.js": "exports.handler = async () => {\n  return 1;\n" });
  const found = locationInStack(requireError(join(root, "index.js")).stack ?? "");
  assert.deepEqual(found?.at, {
    file: join(root, "index.js"),
    line: 3,
    column: undefined,
    source: "",
    width: 0,
  });
  assert.match(found?.rest ?? "", /^SyntaxError: Unexpected end of input\n/);
});

test("a stack with no location at its head gives none", () => {
  assert.equal(
    locationInStack("SyntaxError: Unexpected token '}'\n    at compileSourceTextModule (node:x)"),
    undefined,
  );
  assert.equal(locationInStack("Error: boom\n    at /var/task/index.js:1:1"), undefined);
});

test("Node's fatal output for an ES module names the faulty file as a path, after any warnings", () => {
  const output = [
    "(node:7) ExperimentalWarning: something",
    "file:///var/task/lib/a%20b.mjs:2",
    "  a: 1,,",
    "       ^",
    "",
    "SyntaxError: Unexpected token ','",
    "    at compileSourceTextModule (node:internal/modules/esm/utils:346:16)",
  ].join("\n");
  assert.deepEqual(locationInFatalOutput(output), {
    file: "/var/task/lib/a b.mjs",
    line: 2,
    column: 8,
    source: "  a: 1,,",
    width: 1,
  });
  assert.equal(locationInFatalOutput("file:///var/task/index.mjs:1\nthrow x;\n^\n\nError: x\n"), undefined);
});

test("the module graph is parsed again to find which imported file failed, and where", async (t) => {
  const root = taskRoot(t, {
    "index.mjs": 'import { x } from "./lib/x.mjs";\nexport const handler = async () => x;\n',
    "lib/x.mjs": "export const x = {\n\ta: 1,,\n};\n",
  });
  const at = await locateInModuleGraph(pathToFileURL(join(root, "index.mjs")).href, root);
  assert.deepEqual(at, { file: join(root, "lib/x.mjs"), line: 2, column: 7, source: "\ta: 1,,", width: 1 });
});

test("a module graph that parses is not run while its error is looked for, and gives no location", async (t) => {
  const root = taskRoot(t, {
    "index.mjs": 'import "./side-effect.mjs";\nexport const handler = JSON.parse("{");\n',
    "side-effect.mjs":
      'import { writeFileSync } from "node:fs";\nwriteFileSync(new URL("./ran", import.meta.url), "");\n',
  });
  const at = await locateInModuleGraph(pathToFileURL(join(root, "index.mjs")).href, root);
  assert.equal(at, undefined);
  assert.equal(existsSync(join(root, "ran")), false, "the function's code ran in the child");
});

test("the error says where, relative to the task root, and its trace starts as Node prints it", () => {
  const err = new SyntaxError("Unexpected token '}'");
  const at: SourceLocation = { file: "/var/task/lib/a.mjs", line: 4, column: 1, source: "}", width: 1 };
  const error = userCodeSyntaxError(err, "/var/task", at, "SyntaxError: Unexpected token '}'\n    at x");
  assert.equal(error.name, "Runtime.UserCodeSyntaxError");
  assert.equal(error.message, "SyntaxError: Unexpected token '}' (lib/a.mjs:4:1)");
  assert.deepEqual(error.stack?.split("\n"), [
    "/var/task/lib/a.mjs:4",
    "}",
    "^",
    "",
    "SyntaxError: Unexpected token '}'",
    "    at x",
  ]);

  const outside = userCodeSyntaxError(err, "/var/task", {
    ...at,
    file: "/opt/nodejs/a.mjs",
    column: undefined,
  });
  assert.equal(outside.message, "SyntaxError: Unexpected token '}' (/opt/nodejs/a.mjs:4)");
  const nowhere = userCodeSyntaxError(err, "/var/task", undefined);
  assert.equal(nowhere.message, "SyntaxError: Unexpected token '}'");
  assert.equal(nowhere.stack, err.stack);
});

test("a long line (a minified bundle) is cut around the caret, which still points at the fault", () => {
  const source = `${"a".repeat(5000)}+)${"b".repeat(5000)}`;
  const [line, caret] = excerpt({ file: "/var/task/index.js", line: 1, column: 5002, source, width: 1 });
  assert.ok(line && caret);
  assert.ok(line.length <= 162, `${line.length} characters`);
  assert.match(line, /^…a+\+\)b+…$/);
  assert.equal(line[caret.indexOf("^")], ")");

  const [head, noCaret] = excerpt({
    file: "/var/task/index.js",
    line: 1,
    column: undefined,
    source,
    width: 0,
  });
  assert.equal(head, `${"a".repeat(160)}…`);
  assert.equal(noCaret, undefined);
});
