/**
 * Access policies as the engine holds them once parsed (`parse.ts`): the statements of a JSON
 * document in the shape of an S3 bucket policy, their patterns compiled, and what one request
 * asks (`evaluate.ts`). The documents themselves are the user's, stored as they were written.
 */
import type { Pattern } from "./patterns.js";

export type Effect = "Allow" | "Deny";

/** One entry of `"Principal": {"Nimbus": [...]}`. */
export type PrincipalName =
  /** Any caller with a valid access token of the platform's auth service. */
  | { readonly kind: "authenticated" }
  /** A caller without credentials. */
  | { readonly kind: "anonymous" }
  /** `user:<id>`: the user whose token's `sub` is the id. */
  | { readonly kind: "user"; readonly id: string }
  /** `role:<role>`: a user whose token's `app_metadata.roles` lists the role. */
  | { readonly kind: "role"; readonly role: string };

export type Principals =
  /** `"Principal": "*"` (or `{"AWS": "*"}`): every caller, signed in or not. */
  { readonly everyone: true } | { readonly everyone: false; readonly names: readonly PrincipalName[] };

/** `Action`/`Resource` (not: `NotAction`/`NotResource`: everything the patterns do not match). */
export interface Matcher {
  readonly not: boolean;
  readonly patterns: readonly Pattern[];
}

export const CONDITION_OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "Bool",
  "Null",
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** One key under one operator: `"StringLike": {"s3:prefix": ["users/${auth.sub}/*"]}`. */
export interface ConditionTest {
  /** As written, `…IfExists` included, for explanations. */
  readonly written: string;
  readonly operator: ConditionOperator;
  /** `…IfExists`: holds when the key is not set. */
  readonly ifExists: boolean;
  /** Lower case (condition keys are case-insensitive). */
  readonly key: string;
  /** Any of them (none of them, for a negated operator). */
  readonly values: readonly Pattern[];
}

export interface Statement {
  /** Its position in `Statement`, from 0. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  readonly principals: Principals;
  readonly actions: Matcher;
  readonly resources: Matcher;
  /** Every one must hold. */
  readonly conditions: readonly ConditionTest[];
}

export interface Policy {
  readonly statements: readonly Statement[];
}

/** Who asks: a user by their verified access token's claims, or nobody in particular. */
export type Caller =
  | { readonly kind: "anonymous" }
  | { readonly kind: "user"; readonly id: string; readonly claims: Readonly<Record<string, unknown>> };

export interface AccessRequest {
  readonly caller: Caller;
  /** `s3:GetObject`. */
  readonly action: string;
  /** `arn:aws:s3:::photos/users/u-1/a.png`. */
  readonly resource: string;
  /** The service's condition keys (lower case) and their values: `s3:prefix`. Unset: undefined. */
  readonly context?: Readonly<Record<string, string | undefined>>;
}

export interface Decision {
  readonly decision: "allow" | "deny";
  /** Why, in a sentence an operator can act on. */
  readonly reason: string;
  /** The statement that decided (its Sid, else its index); none for an implicit deny. */
  readonly statement?: string | number;
}
