// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy variables are written ${…} in policies, on purpose
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parsePolicy } from "./parse.js";

const S3_RULES = {
  actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
  resource: (r: string) =>
    r === "arn:aws:s3:::photos" || r.startsWith("arn:aws:s3:::photos/")
      ? undefined
      : `${JSON.stringify(r)} is not bucket photos: write arn:aws:s3:::photos or arn:aws:s3:::photos/<key pattern>`,
  conditionKeys: ["s3:prefix"],
};

const problemsOf = (doc: unknown) => {
  const r = parsePolicy(doc, S3_RULES);
  assert.equal(r.ok, false, "expected problems");
  return r.ok ? [] : r.problems;
};

describe("checking a policy document", () => {
  test("a well-formed policy compiles, single values and lists alike", () => {
    const r = parsePolicy(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "own-folder",
            Effect: "Allow",
            Principal: { Nimbus: "authenticated" },
            Action: ["s3:GetObject", "s3:PutObject"],
            Resource: "arn:aws:s3:::photos/users/${auth.sub}/*",
          },
          {
            Effect: "Allow",
            Principal: { Nimbus: ["user:u-1", "role:editor", "anonymous"] },
            Action: "s3:ListBucket",
            Resource: "arn:aws:s3:::photos",
            Condition: {
              StringLike: { "s3:prefix": ["users/${auth.sub}/*"] },
              Bool: { "auth:anonymous": false },
            },
          },
          {
            Effect: "Deny",
            Principal: "*",
            NotAction: "s3:Get*",
            NotResource: "arn:aws:s3:::photos/public/*",
          },
          { Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:*", Resource: "arn:aws:s3:::photos/*" },
        ],
      }),
      S3_RULES,
    );
    assert.ok(r.ok, r.ok ? "" : r.problems.join("\n"));
    const [own, list, deny, all] = r.policy.statements;
    assert.equal(own?.sid, "own-folder");
    assert.deepEqual(own?.principals, { everyone: false, names: [{ kind: "authenticated" }] });
    assert.deepEqual(list?.principals, {
      everyone: false,
      names: [{ kind: "user", id: "u-1" }, { kind: "role", role: "editor" }, { kind: "anonymous" }],
    });
    assert.deepEqual(
      list?.conditions.map((c) => [c.operator, c.key, c.values.map((v) => v.source)]),
      [
        ["StringLike", "s3:prefix", ["users/${auth.sub}/*"]],
        ["Bool", "auth:anonymous", ["false"]],
      ],
    );
    assert.deepEqual([deny?.actions.not, deny?.resources.not, deny?.index], [true, true, 2]);
    assert.deepEqual(all?.principals, { everyone: true });
  });

  test("every problem is listed, each naming its statement and field", () => {
    const problems = problemsOf({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "own-folder",
          Effect: "allow",
          Principal: { Nimbus: ["users:u-1"] },
          Action: "s3:GetObjectAcl",
          Resource: "arn:aws:s3:::other/*",
        },
        { Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:root" }, Action: "s3:GetObject" },
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:PutObject",
          Resource: "arn:aws:s3:::photos/users/${auth.id}/*",
          Condition: { NumericLessThan: { "s3:max-keys": "10" }, StringLike: { "s3:prefx": "a" } },
        },
      ],
    });
    assert.deepEqual(problems, [
      'Statement[0] ("own-folder").Effect: must be "Allow" or "Deny", got "allow"',
      'Statement[0] ("own-folder").Principal.Nimbus[0]: "users:u-1" is not a principal: name "authenticated", "anonymous", "user:<id>" or "role:<role>" (for everyone, "Principal": "*")',
      'Statement[0] ("own-folder").Action: "s3:GetObjectAcl" names no action Nimbus grants here; the actions are s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket',
      'Statement[0] ("own-folder").Resource: "arn:aws:s3:::other/*" is not bucket photos: write arn:aws:s3:::photos or arn:aws:s3:::photos/<key pattern>',
      'Statement[1].Principal.AWS: Nimbus has no AWS accounts or IAM users: "*", or {"Nimbus": ["authenticated", "anonymous", "user:<id>", "role:<role>"]}',
      "Statement[1].Resource: is required (or NotResource)",
      'Statement[2].Resource: "arn:aws:s3:::photos/users/${auth.id}/*" names the variable ${auth.id}: the variables are ${auth.sub}, ${auth.email}, ${auth.role} (and ${*}, ${?}, ${$} for those characters)',
      "Statement[2].Condition.NumericLessThan: unknown or unsupported condition operator; the operators are StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, Bool, Null (each but Null also …IfExists)",
      "Statement[2].Condition.StringLike.s3:prefx: unknown condition key; the keys are auth:sub, auth:email, auth:role, auth:aal, auth:anonymous, s3:prefix",
    ]);
  });

  test("the document's own shape: JSON, Version, Statement, unknown fields, duplicate Sids", () => {
    assert.match(problemsOf("{not json")[0]!, /^the policy is not JSON: /);
    assert.deepEqual(problemsOf("[]"), ["the policy must be a JSON object"]);
    assert.deepEqual(problemsOf({ Version: "2008-10-17", Statements: [] }), [
      "Statements: unknown field; a policy has Version, Id, Statement",
      'Version: must be "2012-10-17" (the version whose policies have variables), got "2008-10-17"',
      "Statement: a policy needs at least one statement",
    ]);
    const twice = {
      Sid: "a",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::photos/*",
    };
    assert.deepEqual(problemsOf({ Version: "2012-10-17", Statement: [twice, twice] }), [
      'Statement[1] ("a").Sid: another statement has it; Sids must be unique',
    ]);
  });

  test("what Nimbus does not evaluate is refused by name, never ignored", () => {
    const problems = problemsOf({
      Version: "2012-10-17",
      Statement: {
        Effect: "Deny",
        NotPrincipal: { Nimbus: "user:u-1" },
        Principal: "*",
        Action: "s3:GetObject",
        NotAction: "s3:PutObject",
        Resource: "arn:aws:s3:::photos/*",
        Condition: { "ForAnyValue:StringLike": { "s3:prefix": "a" }, NullIfExists: { "s3:prefix": "true" } },
        Bogus: 1,
      },
    });
    assert.equal(problems.length, 5, problems.join("\n"));
    assert.match(problems[0]!, /^Statement\[0\]\.Bogus: unknown field/);
    assert.match(problems[1]!, /^Statement\[0\]\.NotPrincipal: is not supported/);
    assert.match(problems[2]!, /^Statement\[0\]\.Action: a statement has Action or NotAction, not both/);
    assert.match(problems[3]!, /^Statement\[0\]\.Condition\.ForAnyValue:StringLike: unknown or unsupported/);
    assert.match(problems[4]!, /^Statement\[0\]\.Condition\.NullIfExists: unknown or unsupported/);
  });

  test("Bool and Null take true or false; condition keys are case-insensitive", () => {
    const base = {
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::photos/*",
    };
    assert.deepEqual(
      problemsOf({
        Version: "2012-10-17",
        Statement: { ...base, Condition: { Bool: { "auth:anonymous": "no" } } },
      }),
      ['Statement[0].Condition.Bool.auth:anonymous: Bool takes "true" or "false", got "no"'],
    );
    const ok = parsePolicy(
      { Version: "2012-10-17", Statement: { ...base, Condition: { StringEquals: { "Auth:AAL": "aal2" } } } },
      S3_RULES,
    );
    assert.ok(ok.ok);
    assert.equal(ok.policy.statements[0]?.conditions[0]?.key, "auth:aal");
  });

  test("without rules, any service's actions, resources and condition keys are taken; the caller's keys are fixed", () => {
    const doc = (Condition: object) => ({
      Version: "2012-10-17",
      Statement: {
        Effect: "Allow",
        Principal: "*",
        Action: "db:Select*",
        Resource: "arn:nimbus:db:::notes/*",
        Condition,
      },
    });
    assert.ok(parsePolicy(doc({ StringEquals: { "db:collection": "notes" } })).ok);
    assert.deepEqual(parsePolicy(doc({ StringEquals: { "auth:id": "x" } })), {
      ok: false,
      problems: [
        "Statement[0].Condition.StringEquals.auth:id: unknown condition key; the keys are auth:sub, auth:email, auth:role, auth:aal, auth:anonymous",
      ],
    });
  });
});
