/**
 * An HTTP API's route keys and the router that picks one for a request.
 *
 * A route key is `$default` or `METHOD /path`, the path made of literal segments, `{name}`
 * variables and, as its last segment only, one greedy `{name+}`. `parseRouteKey` checks a key
 * as the management API does when a route is created; `compileRouter` builds a segment trie
 * once per API and stage, and `Router.match` walks it once per request, with no regular
 * expression.
 *
 * The priority, after API Gateway's guide ("Routing API requests": a full match for route and
 * method, then a greedy variable, then `$default`), made precise where the guide is silent:
 *  1. a route whose every segment matches (literal or `{name}`), the one with more literal
 *     segments first, and among equals the one whose first differing segment is literal;
 *  2. a greedy route, more literal segments first, then the longer prefix before `{name+}`;
 *  3. `$default`.
 * Within one path, a route for the request's method wins over `ANY` (ANY covers "the methods
 * you haven't defined for a resource"). A method's route never answers another method: a GET
 * route does not take HEAD.
 *
 * Trailing slash: API Gateway refuses a route path ending in `/` (other than `/` itself) and
 * routes `/items/` as `/items`; the slash stays in `rawPath`, which is the caller's. A `{name}`
 * never matches an empty segment; a greedy variable needs at least one character after its
 * prefix. Values are percent-decoded (`%20` → space; `+` stays `+`, it is a path); a broken
 * escape (`%zz`) is kept as sent.
 */
import { NimbusError } from "../../shared/errors.js";

export const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

export const DEFAULT_ROUTE_KEY = "$default";

export type RouteSegment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "greedy"; readonly name: string };

export type ParsedRouteKey =
  | { readonly kind: "default"; readonly routeKey: "$default" }
  | {
      readonly kind: "path";
      readonly routeKey: string;
      readonly method: RouteMethod;
      /** `/items/{id}`: what payload 1.0 calls the resource. */
      readonly path: string;
      readonly segments: readonly RouteSegment[];
    };

const METHODS: ReadonlySet<string> = new Set(ROUTE_METHODS);
const EXPECTED_SHAPE = "must be '$default' or 'METHOD /path'";
const VARIABLE_HINT =
  "a segment is literal text or a whole '{name}' (letters, digits, '_', '-', '.'), and the last may be a greedy '{name+}'";

/** The parsed key, or a sentence saying what is wrong with it and what is expected. */
export function checkRouteKey(routeKey: string): ParsedRouteKey | { readonly error: string } {
  const shown = `Route key '${routeKey}'`;
  if (routeKey === DEFAULT_ROUTE_KEY) return { kind: "default", routeKey: DEFAULT_ROUTE_KEY };
  const space = routeKey.indexOf(" ");
  if (space === -1) return { error: `${shown} ${EXPECTED_SHAPE}` };
  const method = routeKey.slice(0, space);
  const path = routeKey.slice(space + 1);
  if (!METHODS.has(method))
    return {
      error: `${shown} has the method '${method}': expected one of ${ROUTE_METHODS.join(", ")} (upper case), then one space and the path`,
    };
  if (!path.startsWith("/"))
    return { error: `${shown} ${EXPECTED_SHAPE}: the path '${path}' must start with '/'` };
  if (/[\s?#]/.test(path))
    return {
      error: `${shown} has a space, '?' or '#' in its path: a route's path holds neither spaces nor a query or fragment`,
    };
  if (path.length > 1 && path.endsWith("/"))
    return { error: `${shown} ends with '/': only the root path '/' may` };

  const segments: RouteSegment[] = [];
  const names = new Set<string>();
  const parts = path === "/" ? [] : path.slice(1).split("/");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === "")
      return { error: `${shown} has an empty segment ('//'): segments are separated by one '/'` };
    const open = part.includes("{");
    const close = part.includes("}");
    if (!open && !close) {
      segments.push({ kind: "literal", value: decodeSegment(part) });
      continue;
    }
    const variable = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(part);
    if (variable === null) return { error: `${shown} has the segment '${part}': ${VARIABLE_HINT}` };
    const name = variable[1]!;
    if (names.has(name)) return { error: `${shown} names the path variable '${name}' twice` };
    names.add(name);
    if (variable[2] === "+") {
      if (i !== parts.length - 1)
        return {
          error: `${shown} has the greedy variable '${part}' before its last segment: it must be the last`,
        };
      segments.push({ kind: "greedy", name });
    } else segments.push({ kind: "variable", name });
  }
  return { kind: "path", routeKey, method: method as RouteMethod, path, segments };
}

/** The parsed key; an `InvalidParameter` error naming what is wrong when it is malformed. */
export function parseRouteKey(routeKey: string): ParsedRouteKey {
  const checked = checkRouteKey(routeKey);
  if ("error" in checked)
    throw new NimbusError("InvalidParameter", checked.error, {}, [
      { field: "RouteKey", value: routeKey, rule: "pattern", expected: "be '$default' or 'METHOD /path'" },
    ]);
  return checked;
}

/** One route as the router takes it: its key and what the caller attaches (an integration, an authorizer). */
export interface RouteEntry<T> {
  readonly routeKey: string;
  readonly target: T;
}

export interface RouteMatch<T> {
  readonly routeKey: string;
  readonly target: T;
  /** The values the route's variables captured; undefined for a route without variables (as the 2.0 event omits it). */
  readonly pathParameters: Readonly<Record<string, string>> | undefined;
  /** The route's path (`/items/{id}`); the request's own path for `$default`. */
  readonly resource: string;
}

interface CompiledRoute<T> {
  readonly routeKey: string;
  readonly target: T;
  readonly path: string;
  /** For each segment, the variable it fills, or undefined for a literal. */
  readonly names: readonly (string | undefined)[];
  readonly greedy: string | undefined;
}

/** Routes by method at one trie position; ANY under its own key. */
type ByMethod<T> = Map<string, CompiledRoute<T>>;

interface TrieNode<T> {
  readonly literals: Map<string, TrieNode<T>>;
  variable: TrieNode<T> | undefined;
  /** Routes that end here. */
  readonly ends: ByMethod<T>;
  /** Greedy routes whose `{name+}` starts here. */
  readonly greedy: ByMethod<T>;
}

function node<T>(): TrieNode<T> {
  return { literals: new Map(), variable: undefined, ends: new Map(), greedy: new Map() };
}

/** The best candidate so far in one class; found in literal-first order, so ties keep the first. */
interface Best<T> {
  route: CompiledRoute<T> | undefined;
  literals: number;
  prefix: number;
}

/** An API's routes compiled for lookups; build a new one when the routes or the stage change. */
export class Router<T> {
  readonly #root: TrieNode<T>;
  readonly #default: CompiledRoute<T> | undefined;

  constructor(root: TrieNode<T>, fallback: CompiledRoute<T> | undefined) {
    this.#root = root;
    this.#default = fallback;
  }

  /** The route for `method` (upper case) and `rawPath` (as received, without the query), or undefined: a 404. */
  match(method: string, rawPath: string): RouteMatch<T> | undefined {
    let path = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath;
    const trailing = path.endsWith("/");
    if (trailing) path = path.slice(0, -1);
    const raw = path === "" ? [] : path.split("/");
    const decoded = raw.map(decodeSegment);
    const full: Best<T> = { route: undefined, literals: -1, prefix: 0 };
    const greedy: Best<T> = { route: undefined, literals: -1, prefix: -1 };
    walk(this.#root, decoded, 0, 0, method, full, greedy);
    if (full.route !== undefined) return found(full.route, decoded, raw, trailing);
    if (greedy.route !== undefined) return found(greedy.route, decoded, raw, trailing);
    if (this.#default !== undefined)
      return {
        routeKey: DEFAULT_ROUTE_KEY,
        target: this.#default.target,
        pathParameters: undefined,
        resource: rawPath,
      };
    return undefined;
  }
}

/** Compiles `routes` into a router; an `InvalidParameter` error for a malformed key, a repeated one, or two keys of one shape. */
export function compileRouter<T>(routes: Iterable<RouteEntry<T>>): Router<T> {
  const root = node<T>();
  let fallback: CompiledRoute<T> | undefined;
  for (const { routeKey, target } of routes) {
    const parsed = parseRouteKey(routeKey);
    if (parsed.kind === "default") {
      if (fallback !== undefined) throw conflict(routeKey, fallback.routeKey);
      fallback = { routeKey, target, path: "", names: [], greedy: undefined };
      continue;
    }
    let at = root;
    const names: (string | undefined)[] = [];
    let greedy: string | undefined;
    for (const seg of parsed.segments) {
      if (seg.kind === "literal") {
        let next = at.literals.get(seg.value);
        if (next === undefined) {
          next = node();
          at.literals.set(seg.value, next);
        }
        at = next;
        names.push(undefined);
      } else if (seg.kind === "variable") {
        at.variable ??= node();
        at = at.variable;
        names.push(seg.name);
      } else greedy = seg.name;
    }
    const slot = greedy === undefined ? at.ends : at.greedy;
    const earlier = slot.get(parsed.method);
    if (earlier !== undefined) throw conflict(routeKey, earlier.routeKey);
    slot.set(parsed.method, { routeKey, target, path: parsed.path, names, greedy });
  }
  return new Router(root, fallback);
}

function conflict(routeKey: string, earlier: string): NimbusError {
  const same = routeKey === earlier;
  return new NimbusError(
    "InvalidParameter",
    same
      ? `Route key '${routeKey}' is given twice: each route key must be unique within an API`
      : `Route key '${routeKey}' conflicts with '${earlier}': the same method and path shape, only the variable names differ`,
    {},
    [{ field: "RouteKey", value: routeKey, rule: "consistent", expected: "be unique within the API" }],
  );
}

function pick<T>(routes: ByMethod<T>, method: string): CompiledRoute<T> | undefined {
  if (routes.size === 0) return undefined;
  return routes.get(method) ?? routes.get("ANY");
}

function walk<T>(
  at: TrieNode<T>,
  segs: readonly string[],
  i: number,
  literals: number,
  method: string,
  full: Best<T>,
  greedy: Best<T>,
): void {
  if (i < segs.length && at.greedy.size > 0) {
    const route = pick(at.greedy, method);
    if (
      route !== undefined &&
      (literals > greedy.literals || (literals === greedy.literals && i > greedy.prefix))
    ) {
      greedy.route = route;
      greedy.literals = literals;
      greedy.prefix = i;
    }
  }
  if (i === segs.length) {
    const route = pick(at.ends, method);
    if (route !== undefined && literals > full.literals) {
      full.route = route;
      full.literals = literals;
    }
    return;
  }
  const seg = segs[i]!;
  const literal = at.literals.get(seg);
  if (literal !== undefined) walk(literal, segs, i + 1, literals + 1, method, full, greedy);
  if (at.variable !== undefined && seg !== "") walk(at.variable, segs, i + 1, literals, method, full, greedy);
}

function found<T>(
  route: CompiledRoute<T>,
  decoded: readonly string[],
  raw: readonly string[],
  trailing: boolean,
): RouteMatch<T> {
  let params: Record<string, string> | undefined;
  for (let i = 0; i < route.names.length; i++) {
    const name = route.names[i];
    if (name === undefined) continue;
    params ??= {};
    setOwn(params, name, decoded[i]!);
  }
  if (route.greedy !== undefined) {
    params ??= {};
    // Decoded as one string, so an encoded slash (`%2F`) reads as the slash it stands for; the
    // trailing slash the match ignored belongs to the captured rest.
    const rest = raw.slice(route.names.length).join("/");
    setOwn(params, route.greedy, decodeSegment(trailing ? `${rest}/` : rest));
  }
  return { routeKey: route.routeKey, target: route.target, pathParameters: params, resource: route.path };
}

/** `o[key] = value`, also for a variable named `__proto__`, which an assignment would take as the prototype. */
function setOwn(o: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__")
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

function decodeSegment(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
