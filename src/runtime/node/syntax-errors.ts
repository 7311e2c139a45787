// Where the function's code failed to parse, for Runtime.UserCodeSyntaxError. Node knows the
// place: it prints "file:line", the line and a caret under the fault when such an error ends a
// process. Of an error the runtime catches, it shows that only for CommonJS, at the head of the
// stack; an ES module's parse error says neither which file of the module graph failed nor
// where (Node keeps the place in a field only its own fatal-error printer reads).
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { LambdaError } from "./runtime-api-client.js";

export interface SourceLocation {
  /** The file's absolute path, as the function sees it. */
  readonly file: string;
  readonly line: number;
  /** 1-based; unknown when Node drew no caret (it draws none past a line's 1,020th character). */
  readonly column: number | undefined;
  /** The faulty line's text, when Node printed it. */
  readonly source: string | undefined;
  /** How many characters Node underlined. */
  readonly width: number;
}

/** Node's "file:line" head line: a path (CommonJS) or a file URL (ES modules). */
const HEAD_LINE = /^(file:\/\/.+|\/.*):(\d+)$/;
/** The longest excerpt of the faulty line a trace carries: a minified bundle is one line. */
const MAX_EXCERPT_CHARS = 160;
/** Characters of the line kept before the caret when it has to be cut. */
const EXCERPT_LEAD_CHARS = 60;
/**
 * How long the process that finds a module's parse error may take: a failing init waits for
 * it, well inside Lambda's 10 s init limit; on a loaded machine a Node start takes ~0.5 s.
 */
const LOCATE_TIMEOUT_MS = 3_000;
/** Node prints the faulty line whole; enough for the head of a minified bundle's. */
const LOCATE_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Reads Node's location block ("file:line", the line, a caret line) at `lines[at]`; undefined
 * when there is none.
 */
function readBlock(lines: readonly string[], at: number): SourceLocation | undefined {
  const head = HEAD_LINE.exec(lines[at] ?? "");
  if (!head) return undefined;
  const [, where = "", line = ""] = head;
  let file = where;
  if (where.startsWith("file://")) {
    try {
      file = fileURLToPath(where);
    } catch {
      return undefined;
    }
  }
  const source = lines[at + 1];
  const caret = lines[at + 2] ?? "";
  const start = caret.indexOf("^");
  return {
    file,
    line: Number(line),
    column: start < 0 ? undefined : start + 1,
    source,
    width: start < 0 ? 0 : caret.slice(start).search(/[^^]|$/),
  };
}

/**
 * The location Node put at the head of a CommonJS parse error's stack, and the stack without
 * it ("file:line", the line, the caret and a blank line come before "SyntaxError: …").
 */
export function locationInStack(stack: string): { at: SourceLocation; rest: string } | undefined {
  const lines = stack.split("\n");
  const at = readBlock(lines, 0);
  // The line itself and the caret line may be empty (an unexpected end of input), the fourth is.
  if (at === undefined || lines[3] !== "" || lines.length < 5) return undefined;
  return { at, rest: lines.slice(4).join("\n") };
}

/** The location in what Node prints when a SyntaxError ends a process (its stderr). */
export function locationInFatalOutput(output: string): SourceLocation | undefined {
  const lines = output.split("\n");
  const syntaxError = lines.findIndex((line) => line.startsWith("SyntaxError"));
  for (let i = 0; i < syntaxError; i++) {
    const at = readBlock(lines, i);
    if (at) return at;
  }
  return undefined;
}

/**
 * Finds where the module graph rooted at `url` fails to parse, by linking it again in a child
 * Node and reading what Node prints when that kills it. Nothing of the function's runs: the
 * graph is parsed and linked before any of it is evaluated, and the first module evaluated
 * ends the child. Undefined when the graph parses (the error came from running code, or from a
 * module imported dynamically) or when the child cannot tell in time.
 */
export function locateInModuleGraph(url: string, cwd: string): Promise<SourceLocation | undefined> {
  const entry = `import "data:text/javascript,process.exit(0)";\nimport ${JSON.stringify(url)};\n`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--input-type=module", "--eval", entry],
      {
        cwd,
        // None of the function's variables: NODE_OPTIONS could preload its code (--import).
        env: {},
        timeout: LOCATE_TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: LOCATE_MAX_OUTPUT_BYTES,
      },
      // An error is the expected outcome (exit 1); a cut output still has the location first.
      (_error, _stdout, stderr) => resolve(locationInFatalOutput(String(stderr))),
    );
  });
}

/**
 * The Runtime.UserCodeSyntaxError for `err`: its message says where (`SyntaxError: Unexpected
 * token '}' (lib/util.mjs:3:1)`, the file relative to the task root when it lies inside), and
 * its trace starts as Node prints such an error: "file:line", the line, a caret.
 */
export function userCodeSyntaxError(
  err: SyntaxError,
  taskRoot: string,
  at: SourceLocation | undefined,
  stack = err.stack ?? String(err),
): LambdaError {
  const place = at ? ` (${shownPath(at.file, taskRoot)}:${at.line}${at.column ? `:${at.column}` : ""})` : "";
  const error = new LambdaError("Runtime.UserCodeSyntaxError", `${String(err)}${place}`);
  error.stack = at ? [`${at.file}:${at.line}`, ...excerpt(at), "", stack].join("\n") : stack;
  return error;
}

/** The file relative to the task root (or the root's real path) when inside it, else as it is. */
function shownPath(file: string, taskRoot: string): string {
  const roots = [taskRoot];
  try {
    roots.push(realpathSync(taskRoot));
  } catch {
    // The root as given is all there is.
  }
  for (const root of roots) {
    const rel = relative(root, file);
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel;
  }
  return file;
}

/** The faulty line and its caret line, cut around the caret when the line is long. */
export function excerpt(at: SourceLocation): string[] {
  if (at.source === undefined) return [];
  let text = at.source;
  let caretAt = at.column === undefined ? undefined : at.column - 1;
  if (text.length > MAX_EXCERPT_CHARS) {
    const from = Math.max(0, (caretAt ?? 0) - EXCERPT_LEAD_CHARS);
    const to = from + MAX_EXCERPT_CHARS;
    text = `${from > 0 ? "…" : ""}${text.slice(from, to)}${to < at.source.length ? "…" : ""}`;
    if (caretAt !== undefined) caretAt += from > 0 ? 1 - from : 0;
  }
  if (caretAt === undefined) return [text];
  // Tabs stay tabs, so that the caret lines up however the line is shown.
  const pad = text.slice(0, caretAt).replace(/[^\t]/g, " ");
  const width = Math.max(1, Math.min(at.width, text.length - caretAt));
  return [text, `${pad}${"^".repeat(width)}`];
}
