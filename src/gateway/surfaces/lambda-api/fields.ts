/**
 * How the Lambda API's decoders read a request body: member by member, each of the wrong type
 * collected as a problem under the registry's field name, all thrown at once by `done()`.
 */
import type { Architecture } from "../../../control/registry/spec.js";
import * as v from "../../../control/registry/validate.js";
import { invalidInput, type Problem } from "../../../shared/errors.js";

export type Body = Record<string, unknown>;

/** Reads a body's members, collecting every one of the wrong type. */
export class Fields {
  readonly problems: Problem[] = [];
  readonly #body: Body;

  constructor(body: Body) {
    this.#body = body;
  }

  /** Throws the problems found, if any. */
  done(): void {
    if (this.problems.length > 0) throw invalidInput(this.problems);
  }

  /** A member that may be left out; null is a wrong type, as Lambda reads it. */
  optional<T extends "string" | "number">(
    key: string,
    field: string,
    type: T,
    expected: string,
  ): (T extends "string" ? string : number) | undefined {
    const raw = this.#body[key];
    if (raw === undefined) return undefined;
    if (typeof raw !== type) {
      this.problems.push(v.problem(field, raw, "type", expected));
      return undefined;
    }
    return raw as T extends "string" ? string : number;
  }

  required<T extends "string" | "number">(key: string, field: string, type: T, expected: string) {
    if (this.#body[key] === undefined) this.problems.push(v.problem(field, undefined, "required", expected));
    return this.optional(key, field, type, expected);
  }

  /** Environment.Variables; null clears them, as does an Environment without Variables. */
  environment(): Record<string, string> | undefined {
    const env = this.#body.Environment;
    if (env === undefined) return undefined;
    const vars = typeof env === "object" && env !== null ? ((env as Body).Variables ?? {}) : {};
    if (typeof vars !== "object" || vars === null || Array.isArray(vars)) {
      this.problems.push(v.problem("environment", vars, "type", "be a map of strings to strings"));
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(vars)) {
      if (typeof val === "string") out[k] = val;
      else this.problems.push(v.problem(`environment.${k}`, val, "type", "be a string"));
    }
    return out;
  }

  /** Tags: a map of strings to strings. */
  tags(): Record<string, string> | undefined {
    const raw = this.#body.Tags;
    if (raw === undefined) return undefined;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      this.problems.push(v.problem("tags", raw, "type", "be a map of strings to strings"));
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(raw)) {
      if (typeof val === "string") out[k] = val;
      else this.problems.push(v.problem(`tags.${k}`, val, "type", "be a string"));
    }
    return out;
  }

  /** Architectures: a list of one. */
  architecture(): Architecture | undefined {
    const raw = this.#body.Architectures;
    if (raw === undefined) return undefined;
    if (Array.isArray(raw) && raw.length === 1 && (raw[0] === "x86_64" || raw[0] === "arm64")) return raw[0];
    this.problems.push(v.problem("architectures", raw, "oneOf", v.EXPECTED.architecture));
    return undefined;
  }

  /** EphemeralStorage: `{ Size }` in MB. */
  ephemeralStorage(): number | undefined {
    const raw = this.#body.EphemeralStorage;
    if (raw === undefined) return undefined;
    const size = typeof raw === "object" && raw !== null ? (raw as Body).Size : undefined;
    if (typeof size === "number") return size;
    this.problems.push(v.problem("ephemeralStorageMb", size, "type", v.EXPECTED.ephemeralStorageMb));
    return undefined;
  }

  /** RoutingConfig.AdditionalVersionWeights; null (or no weights) stops routing. */
  routing(): Record<string, number> | undefined {
    const raw = this.#body.RoutingConfig;
    if (raw === undefined) return undefined;
    const map = (typeof raw === "object" && raw !== null ? (raw as Body).AdditionalVersionWeights : {}) ?? {};
    if (typeof map !== "object" || Array.isArray(map)) {
      this.problems.push(v.problem("additionalVersionWeights", map, "type", "be a map of version to weight"));
      return undefined;
    }
    const weights: Record<string, number> = {};
    for (const [ver, w] of Object.entries(map)) {
      if (typeof w === "number") weights[ver] = w;
      else this.problems.push(v.problem(`additionalVersionWeights.${ver}`, w, "type", v.EXPECTED.weight));
    }
    return weights;
  }

  revision(): string | undefined {
    return this.optional("RevisionId", "expectedRevision", "string", "be a string");
  }

  get body(): Body {
    return this.#body;
  }
}
