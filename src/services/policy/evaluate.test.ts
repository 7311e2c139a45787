// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy variables are written ${…} in policies, on purpose
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { evaluate } from "./evaluate.js";
import type { AccessRequest, Caller, Policy } from "./model.js";
import { parsePolicy } from "./parse.js";

function policy(...Statement: object[]): Policy {
  const r = parsePolicy({ Version: "2012-10-17", Statement });
  if (!r.ok) throw new Error(r.problems.join("\n"));
  return r.policy;
}

const user = (id: string, claims: Record<string, unknown> = {}): Caller => ({
  kind: "user",
  id,
  claims: { sub: id, role: "authenticated", aal: "aal1", email: `${id}@example.com`, ...claims },
});
const ANONYMOUS: Caller = { kind: "anonymous" };
const object = (key: string) => `arn:aws:s3:::photos/${key}`;
const req = (caller: Caller, action: string, resource: string, context?: AccessRequest["context"]) => ({
  caller,
  action,
  resource,
  ...(context ? { context } : {}),
});

const OWN_FOLDER = {
  Sid: "own-folder",
  Effect: "Allow",
  Principal: { Nimbus: "authenticated" },
  Action: ["s3:GetObject", "s3:PutObject"],
  Resource: "arn:aws:s3:::photos/users/${auth.sub}/*",
};

describe("evaluating a request", () => {
  test("a variable is the caller's claim: each user reaches their own folder only, and is told which", () => {
    const p = policy(OWN_FOLDER);
    assert.deepEqual(evaluate(p, req(user("u-1"), "s3:PutObject", object("users/u-1/a.png"))), {
      decision: "allow",
      reason:
        'statement "own-folder" allows s3:PutObject on arn:aws:s3:::photos/users/u-1/a.png for user u-1',
      statement: "own-folder",
    });
    assert.deepEqual(evaluate(p, req(user("u-1"), "s3:PutObject", object("users/u-2/a.png"))), {
      decision: "deny",
      reason:
        'no statement allows s3:PutObject on arn:aws:s3:::photos/users/u-2/a.png for user u-1 (statement "own-folder" allows only arn:aws:s3:::photos/users/u-1/*)',
    });
  });

  test("a caller without the claim a variable names matches nothing, and the reason says so", () => {
    const p = policy({ ...OWN_FOLDER, Principal: "*" });
    const d = evaluate(p, req(ANONYMOUS, "s3:GetObject", object("users/${auth.sub}/a.png")));
    assert.equal(d.decision, "deny");
    assert.match(
      d.reason,
      /allows only arn:aws:s3:::photos\/users\/\$\{auth\.sub\}\/\*, and an anonymous caller has no \$\{auth\.sub\}\)$/,
    );
  });

  test("an explicit Deny wins over any Allow, whatever their order", () => {
    const deny = {
      Sid: "no-deletes",
      Effect: "Deny",
      Principal: { Nimbus: "authenticated" },
      Action: "s3:DeleteObject",
      Resource: "arn:aws:s3:::photos/*",
    };
    const allowAll = { Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::photos/*" };
    for (const p of [policy(allowAll, deny), policy(deny, allowAll)])
      assert.deepEqual(evaluate(p, req(user("u-1"), "s3:DeleteObject", object("users/u-1/a"))), {
        decision: "deny",
        reason:
          'statement "no-deletes" denies s3:DeleteObject on arn:aws:s3:::photos/users/u-1/a for user u-1',
        statement: "no-deletes",
      });
    // The Deny names users only: an anonymous caller falls to the Allow, statement 0 (no Sid).
    assert.deepEqual(evaluate(policy(allowAll, deny), req(ANONYMOUS, "s3:DeleteObject", object("a"))), {
      decision: "allow",
      reason: "Statement[0] allows s3:DeleteObject on arn:aws:s3:::photos/a for an anonymous caller",
      statement: 0,
    });
  });

  test("no statement that applies is an implicit deny; an empty policy says so", () => {
    assert.deepEqual(evaluate({ statements: [] }, req(ANONYMOUS, "s3:GetObject", object("a"))), {
      decision: "deny",
      reason:
        "no statement allows s3:GetObject on arn:aws:s3:::photos/a for an anonymous caller (the policy has no statements)",
    });
  });

  test("principals: authenticated, anonymous, a user by id, a role from app_metadata.roles", () => {
    const p = policy(
      {
        Sid: "editors",
        Effect: "Allow",
        Principal: { Nimbus: "role:editor" },
        Action: "s3:PutObject",
        Resource: object("shared/*"),
      },
      {
        Sid: "ada",
        Effect: "Allow",
        Principal: { Nimbus: "user:u-9" },
        Action: "s3:PutObject",
        Resource: object("ada/*"),
      },
      {
        Sid: "guests",
        Effect: "Allow",
        Principal: { Nimbus: "anonymous" },
        Action: "s3:GetObject",
        Resource: object("guest/*"),
      },
    );
    const editor = user("u-1", { app_metadata: { roles: ["viewer", "editor"] } });
    assert.equal(evaluate(p, req(editor, "s3:PutObject", object("shared/x"))).decision, "allow");
    assert.equal(evaluate(p, req(user("u-2"), "s3:PutObject", object("shared/x"))).decision, "deny");
    assert.equal(evaluate(p, req(user("u-9"), "s3:PutObject", object("ada/x"))).decision, "allow");
    assert.equal(evaluate(p, req(ANONYMOUS, "s3:GetObject", object("guest/x"))).decision, "allow");
    assert.equal(evaluate(p, req(user("u-9"), "s3:GetObject", object("guest/x"))).decision, "deny");
    // A user's own metadata (user_metadata) never gives a role.
    const claimed = user("u-3", { user_metadata: { roles: ["editor"] } });
    const d = evaluate(p, req(claimed, "s3:PutObject", object("shared/x")));
    assert.equal(
      d.reason,
      'no statement allows s3:PutObject on arn:aws:s3:::photos/shared/x for user u-3 (statement "editors" is only for role:editor; statement "ada" is only for user:u-9; statement "guests" is only for anonymous)',
    );
  });

  test("actions match ignoring case, with wildcards; NotAction and NotResource invert", () => {
    const p = policy(
      { Effect: "Allow", Principal: "*", Action: "S3:Get*", Resource: object("*") },
      { Sid: "not", Effect: "Deny", Principal: "*", NotAction: "s3:GetObject", NotResource: object("tmp/*") },
    );
    assert.equal(evaluate(p, req(ANONYMOUS, "s3:GetObject", object("a"))).decision, "allow");
    assert.equal(evaluate(p, req(ANONYMOUS, "s3:GetObjectTagging", object("a"))).statement, "not");
    assert.equal(evaluate(p, req(ANONYMOUS, "s3:GetObjectTagging", object("tmp/a"))).decision, "allow");
    assert.match(
      evaluate(p, req(ANONYMOUS, "s3:PutObject", object("tmp/a"))).reason,
      /\(Statement\[0\] allows only S3:Get\*\)$/,
    );
  });

  test("conditions: StringLike on a service key with a variable, the reason naming what was asked", () => {
    const p = policy({
      Sid: "list-own",
      Effect: "Allow",
      Principal: { Nimbus: "authenticated" },
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::photos",
      Condition: { StringLike: { "s3:prefix": ["users/${auth.sub}/*"] } },
    });
    const list = (caller: Caller, prefix?: string) =>
      evaluate(p, req(caller, "s3:ListBucket", "arn:aws:s3:::photos", { "s3:prefix": prefix }));
    assert.equal(list(user("u-1"), "users/u-1/").decision, "allow");
    assert.equal(
      list(user("u-1"), "users/u-2/").reason,
      'no statement allows s3:ListBucket on arn:aws:s3:::photos for user u-1 (statement "list-own" has the condition StringLike s3:prefix ["users/u-1/*"], which does not hold: s3:prefix is "users/u-2/")',
    );
    assert.match(list(user("u-1")).reason, /which does not hold: s3:prefix is not set\)$/);
  });

  test("conditions on the caller: aal, anonymous sign-ins, email ignoring case, Null, IfExists, negation", () => {
    const cond = (Condition: object) =>
      policy({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: object("*"), Condition });
    const allowed = (p: Policy, caller: Caller, context?: Record<string, string>) =>
      evaluate(p, req(caller, "s3:GetObject", object("a"), context)).decision === "allow";
    const mfa = cond({ StringEquals: { "auth:aal": "aal2" } });
    assert.equal(allowed(mfa, user("u-1", { aal: "aal2" })), true);
    assert.equal(allowed(mfa, user("u-1")), false);
    const real = cond({ Bool: { "auth:anonymous": "false" } });
    assert.equal(allowed(real, user("u-1")), true);
    assert.equal(allowed(real, user("u-1", { is_anonymous: true })), false);
    assert.equal(allowed(real, ANONYMOUS), false);
    const staff = cond({
      StringLikeIfExists: { "s3:prefix": "staff/*" },
      StringEqualsIgnoreCase: { "auth:email": "ADA@example.com" },
    });
    assert.equal(allowed(staff, user("ada")), true);
    assert.equal(allowed(staff, user("ada"), { "s3:prefix": "other/" }), false);
    assert.equal(allowed(staff, user("bob")), false);
    const noEmail = cond({ Null: { "auth:email": "true" } });
    assert.equal(allowed(noEmail, user("u-1", { email: "" })), true);
    assert.equal(allowed(noEmail, user("u-1")), false);
    // A negated operator holds when the key is not set, and when no value matches.
    const notTmp = cond({ StringNotLike: { "s3:prefix": ["tmp/*", "cache/*"] } });
    assert.equal(allowed(notTmp, ANONYMOUS), true);
    assert.equal(allowed(notTmp, ANONYMOUS, { "s3:prefix": "photos/" }), true);
    assert.equal(allowed(notTmp, ANONYMOUS, { "s3:prefix": "cache/x" }), false);
  });

  test("a Deny whose condition uses a variable the caller lacks: its negation holds, so it denies", () => {
    const p = policy(
      { Effect: "Allow", Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos" },
      {
        Sid: "outside-own",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::photos",
        Condition: { StringNotLike: { "s3:prefix": "users/${auth.sub}/*" } },
      },
    );
    const list = (caller: Caller, prefix: string) =>
      evaluate(p, req(caller, "s3:ListBucket", "arn:aws:s3:::photos", { "s3:prefix": prefix })).decision;
    assert.equal(list(user("u-1"), "users/u-1/"), "allow");
    assert.equal(list(user("u-1"), "users/u-2/"), "deny");
    assert.equal(list(ANONYMOUS, "users/u-1/"), "deny");
  });

  test("an implicit deny names at most three of the nearest misses", () => {
    const near = (n: number) => ({
      Sid: `s${n}`,
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: object(`f${n}/*`),
    });
    const far = {
      Sid: "far",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: object("*"),
    };
    const d = evaluate(
      policy(far, near(1), near(2), near(3), near(4)),
      req(ANONYMOUS, "s3:GetObject", object("x")),
    );
    assert.match(
      d.reason,
      /\(statement "s1" allows only [^;]+; statement "s2" [^;]+; statement "s3" [^;]+; 1 more alike\)$/,
    );
    assert.doesNotMatch(d.reason, /"far"/);
  });
});
