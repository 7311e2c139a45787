/**
 * What a target receives of an event: the whole event, a constant `Input`, the part an
 * `InputPath` selects, or an `InputTransformer`'s template filled from the event. Paths are
 * the JSONPath subset EventBridge accepts (`$`, `$.detail.instance-id`, `$.resources[0]`,
 * `$.detail['a b']`). A template's `<name>` is replaced by the value its path selected: inside
 * a JSON string as the text of the value, elsewhere as a JSON value; a path that selects
 * nothing gives nothing (an empty string in a string, `null` elsewhere). The predefined
 * `<aws.events.event>`, `<aws.events.event.json>`, `<aws.events.rule-name>`,
 * `<aws.events.rule-arn>` and `<aws.events.event.ingestion-time>` are there too.
 */
import type { InputTransformer } from "./model.js";

export type JsonPath = ReadonlyArray<string | number>;

/** Reads `$.a.b[0]['c d']` into its steps, or throws with what is expected. */
export function parseJsonPath(path: string): JsonPath {
  if (!path.startsWith("$")) throw new Error(`the path ${JSON.stringify(path)} must start with $`);
  const steps: Array<string | number> = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] === ".") {
      const m = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!m) throw new Error(`the path ${JSON.stringify(path)} has an empty name after "." at ${i}`);
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (path[i] === "[") {
      const index = /^\[(\d+)\]/.exec(path.slice(i));
      const quoted = /^\['((?:[^'\\]|\\.)*)'\]/.exec(path.slice(i));
      if (index) {
        steps.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted) {
        steps.push(quoted[1]!.replace(/\\(.)/g, "$1"));
        i += quoted[0].length;
      } else
        throw new Error(`the path ${JSON.stringify(path)} has a bracket at ${i} that is not [n] or ['name']`);
    } else
      throw new Error(
        `the path ${JSON.stringify(path)} has ${JSON.stringify(path[i])} at ${i}: expected . or [`,
      );
  }
  return steps;
}

export function select(value: unknown, path: JsonPath): unknown {
  let v = value;
  for (const step of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[step];
  }
  return v;
}

export interface TransformContext {
  readonly ruleName: string;
  readonly ruleArn: string;
  readonly ingestionTime: string;
}

/** Fills a template. `paths` are parsed already (see `checkTransformer`). */
export function fillTemplate(
  template: string,
  paths: ReadonlyMap<string, JsonPath>,
  event: Record<string, unknown>,
  ctx: TransformContext,
): string {
  const predefined: Record<string, unknown> = {
    "aws.events.event": event,
    "aws.events.event.json": event,
    "aws.events.rule-name": ctx.ruleName,
    "aws.events.rule-arn": ctx.ruleArn,
    "aws.events.event.ingestion-time": ctx.ingestionTime,
  };
  let out = "";
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === "\\" && inString) {
      out += ch + (template[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === '"') inString = !inString;
    if (ch === "<") {
      const end = template.indexOf(">", i);
      const name = end === -1 ? "" : template.slice(i + 1, end);
      const known = paths.has(name) || Object.hasOwn(predefined, name);
      if (known) {
        const path = paths.get(name);
        const value = path ? select(event, path) : predefined[name];
        out += inString ? textOf(value) : (JSON.stringify(value) ?? "null");
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** A value as the text of a JSON string: a string's own characters, anything else as JSON, escaped. */
function textOf(value: unknown): string {
  if (value === undefined) return "";
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return JSON.stringify(s).slice(1, -1);
}

/** Checks an InputTransformer, returning its paths parsed; throws with what is wrong. */
export function checkTransformer(t: InputTransformer): Map<string, JsonPath> {
  const entries = Object.entries(t.inputPathsMap);
  if (entries.length > 100) throw new Error("InputPathsMap can have at most 100 entries");
  const out = new Map<string, JsonPath>();
  for (const [name, path] of entries) {
    if (!/^[A-Za-z0-9_-]+$/.test(name) || name.startsWith("aws."))
      throw new Error(
        `InputPathsMap key ${JSON.stringify(name)} must be letters, digits, - and _, not starting with aws.`,
      );
    out.set(name, parseJsonPath(path));
  }
  if (t.inputTemplate.length === 0 || t.inputTemplate.length > 8192)
    throw new Error("InputTemplate must be 1 to 8192 characters");
  return out;
}

/** What one target receives of `event` (the payload, as text). */
export function targetInput(
  target: {
    input?: string | undefined;
    inputPath?: JsonPath | undefined;
    transformer?: { paths: ReadonlyMap<string, JsonPath>; template: string } | undefined;
  },
  event: Record<string, unknown>,
  ctx: TransformContext,
): string {
  if (target.input !== undefined) return target.input;
  if (target.inputPath) return JSON.stringify(select(event, target.inputPath)) ?? "null";
  if (target.transformer)
    return fillTemplate(target.transformer.template, target.transformer.paths, event, ctx);
  return JSON.stringify(event);
}
