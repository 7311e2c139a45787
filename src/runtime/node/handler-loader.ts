// Finds and loads the function's handler the way AWS's Node runtime does, and turns each way it
// can fail into the error type Lambda reports for it on /init/error.
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LambdaError } from "./runtime-api-client.js";
import { locateInModuleGraph, locationInStack, userCodeSyntaxError } from "./syntax-errors.js";
import { fetchHandler, isFetchTarget } from "./web-handler.js";

export type Handler = (event: unknown, context: unknown, callback: unknown) => unknown;

// Boxed so that awaiting a load never adopts a module whose exports happen to be thenable.
type Loaded = { exports: unknown };

const HANDLER_EXPR = /^([^.]*)\.(.*)$/;
const EXTENSIONS = [".js", ".mjs", ".cjs"] as const;
// What require() throws for a .js written as an ES module: Node < 20.19 cannot detect module syntax
// (SyntaxError), newer Nodes can but refuse a module graph with top-level await.
const NEEDS_IMPORT_CODES = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE"]);
const ESM_SYNTAX_MESSAGE =
  /import statement outside a module|Unexpected token 'export'|import\.meta|top level bodies of modules/;

/**
 * Loads `{taskRoot}/{file}` named by `_HANDLER` ("dir/file.export.nested") and returns the handler
 * function; an export that is an object with a `fetch` method comes back wrapped as one.
 */
export async function loadHandler(taskRoot: string, handlerString: string | undefined): Promise<Handler> {
  const { moduleRoot, moduleName, exportPath } = parseHandlerString(handlerString ?? "");
  // Resolve against the bootstrap's own path so a missing module reads as on AWS:
  // "Cannot find module 'index'\nRequire stack:\n- /var/runtime/…".
  const require = createRequire(process.argv[1] ?? join(taskRoot, "bootstrap"));
  let file: string | undefined;
  let loaded: Loaded;
  try {
    file = resolveModule(require, taskRoot, moduleRoot, moduleName);
    loaded = await loadFile(require, file);
  } catch (err) {
    throw await asInitError(err, taskRoot, file);
  }
  return findHandler(loaded.exports, exportPath, handlerString ?? "");
}

function parseHandlerString(handlerString: string): {
  moduleRoot: string;
  moduleName: string;
  exportPath: string;
} {
  if (handlerString.includes("..")) {
    throw new LambdaError(
      "Runtime.MalformedHandlerName",
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const name = basename(handlerString);
  const match = HANDLER_EXPR.exec(name);
  if (name === "" || match === null) {
    throw new LambdaError(
      "Runtime.MalformedHandlerName",
      `Bad handler '${handlerString}': expected "file.export"`,
    );
  }
  return {
    moduleRoot: handlerString.slice(0, handlerString.length - name.length).replace(/\/$/, ""),
    moduleName: match[1] ?? "",
    exportPath: match[2] ?? "",
  };
}

/** The handler module's file: `{moduleName}.js|.mjs|.cjs`, else a package of that name. */
function resolveModule(
  require: NodeJS.Require,
  taskRoot: string,
  moduleRoot: string,
  moduleName: string,
): string {
  const base = resolve(taskRoot, moduleRoot, moduleName);
  for (const extension of EXTENSIONS) {
    const file = base + extension;
    if (statSync(file, { throwIfNoEntry: false })?.isFile()) return file;
  }
  // As on AWS, the name may also be a package under node_modules.
  return require.resolve(moduleName, { paths: [taskRoot, join(taskRoot, moduleRoot)] });
}

function loadFile(require: NodeJS.Require, file: string): Loaded | Promise<Loaded> {
  if (file.endsWith(".mjs") || (file.endsWith(".js") && isModuleScope(dirname(file))))
    return importFile(file);
  if (!file.endsWith(".js")) return { exports: require(file) };
  // CommonJS handlers keep require() semantics (require.cache, sync load, no namespace wrapper).
  try {
    return { exports: require(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const esmSyntax = err instanceof SyntaxError && ESM_SYNTAX_MESSAGE.test(err.message);
    if ((code !== undefined && NEEDS_IMPORT_CODES.has(code)) || esmSyntax) return importFile(file);
    throw err;
  }
}

async function importFile(file: string): Promise<Loaded> {
  return { exports: await import(pathToFileURL(file).href) };
}

// Node's own rule: the nearest package.json decides, and the search stops at node_modules.
function isModuleScope(dir: string): boolean {
  for (let current = dir; ; ) {
    if (basename(current) === "node_modules") return false;
    let text: string | undefined;
    try {
      text = readFileSync(join(current, "package.json"), "utf8");
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === "module";
      } catch {
        return false;
      }
    }
    const parent = dirname(current);
    if (parent === current) return false;
    current = parent;
  }
}

/**
 * Lambda's error type for a load failure. A SyntaxError says where the code failed to parse:
 * CommonJS errors carry the place at the head of their stack; for ES modules, which carry
 * none, the module graph is parsed once more in a child process (only on this failing path).
 */
async function asInitError(err: unknown, taskRoot: string, file: string | undefined): Promise<unknown> {
  if (err instanceof SyntaxError) {
    const stack = err.stack ?? String(err);
    const inStack = locationInStack(stack);
    if (inStack) return userCodeSyntaxError(err, taskRoot, inStack.at, inStack.rest);
    const at = file === undefined ? undefined : await locateInModuleGraph(pathToFileURL(file).href, taskRoot);
    return userCodeSyntaxError(err, taskRoot, at, stack);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
    return new LambdaError("Runtime.ImportModuleError", String(err));
  }
  return err;
}

function findHandler(mod: unknown, exportPath: string, handlerString: string): Handler {
  let handler = lookup(mod, exportPath);
  if (!handler && isObjectLike(mod) && "default" in mod) handler = lookup(mod.default, exportPath);
  if (!handler)
    throw new LambdaError("Runtime.HandlerNotFound", `${handlerString} is undefined or not exported`);
  // Only an object is a web handler: a function with a fetch property stays the Lambda handler it was.
  if (isFetchTarget(handler)) return fetchHandler(handler);
  if (typeof handler !== "function")
    throw new LambdaError("Runtime.HandlerNotFound", `${handlerString} is not a function`);
  return handler as Handler;
}

function lookup(root: unknown, exportPath: string): unknown {
  let value = root;
  for (const key of exportPath.split(".")) {
    value = isObjectLike(value) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}
