// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy variables are written ${…} in policies, on purpose
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compilePattern,
  matches,
  missingVariables,
  type Pattern,
  render,
  type Variables,
} from "./patterns.js";

const compiled = (source: string, wildcards = true): Pattern => {
  const p = compilePattern(source, { wildcards, variables: true });
  if ("problem" in p) throw new Error(p.problem);
  return p;
};
const ada: Variables = (v) =>
  ({ "auth.sub": "u-1", "auth.email": "ada*@example.com", "auth.role": undefined })[v];
const nobody: Variables = () => undefined;

describe("policy patterns", () => {
  test("* matches any run of characters, slashes included, and ? exactly one", () => {
    const p = compiled("arn:aws:s3:::photos/users/*/a?.png");
    assert.equal(matches(p, "arn:aws:s3:::photos/users/u-1/a1.png", nobody), true);
    assert.equal(matches(p, "arn:aws:s3:::photos/users/u-1/deep/er/ab.png", nobody), true);
    assert.equal(matches(p, "arn:aws:s3:::photos/users/u-1/a.png", nobody), false);
    assert.equal(matches(p, "arn:aws:s3:::photos/users/u-1/a12.png", nobody), false);
    assert.equal(matches(compiled("*"), "", nobody), true);
    assert.equal(matches(compiled("a*b*c"), "aXbYbZc", nobody), true);
    assert.equal(matches(compiled("a*b*c"), "aXbYcZ", nobody), false);
    // One character is one code point, not one UTF-16 unit.
    assert.equal(matches(compiled("photo-?.png"), "photo-😀.png", nobody), true);
  });

  test("a variable takes the caller's value literally: a star in it is no wildcard", () => {
    const p = compiled("users/${auth.email}/*");
    assert.equal(matches(p, "users/ada*@example.com/x", ada), true);
    assert.equal(matches(p, "users/adam@example.com/x", ada), false);
    assert.equal(render(p, ada), "users/ada*@example.com/*");
  });

  test("a pattern naming a variable the caller has not matches nothing, even a catch-all", () => {
    const p = compiled("${auth.role}*");
    assert.equal(matches(p, "anything", ada), false);
    assert.equal(matches(compiled("users/${auth.sub}/*"), "users//x", nobody), false);
    assert.deepEqual(missingVariables(p, ada), ["auth.role"]);
    assert.equal(render(compiled("users/${auth.sub}/*"), nobody), "users/${auth.sub}/*");
  });

  test("${*}, ${?} and ${$} are the characters; without wildcards * is a star", () => {
    assert.equal(matches(compiled("a${*}b"), "a*b", nobody), true);
    assert.equal(matches(compiled("a${*}b"), "axb", nobody), false);
    assert.equal(matches(compiled("cost${$}${?}"), "cost$?", nobody), true);
    assert.equal(matches(compiled("a*b", false), "a*b", nobody), true);
    assert.equal(matches(compiled("a*b", false), "axb", nobody), false);
  });

  test("ignoring case when asked", () => {
    assert.equal(matches(compiled("s3:Get*"), "S3:GETOBJECT", nobody, true), true);
    assert.equal(matches(compiled("s3:GetObject"), "s3:getobject", nobody, true), true);
    assert.equal(matches(compiled("s3:GetObject"), "s3:getobject", nobody), false);
  });

  test("an unknown or unclosed variable is a problem naming it", () => {
    const unknown = compilePattern("users/${auth.id}/*", { wildcards: true, variables: true });
    assert.ok("problem" in unknown);
    assert.match(
      unknown.problem,
      /\$\{auth\.id\}: the variables are \$\{auth\.sub\}, \$\{auth\.email\}, \$\{auth\.role\}/,
    );
    const open = compilePattern("users/${auth.sub", { wildcards: true, variables: true });
    assert.ok("problem" in open);
    assert.match(open.problem, /never closes it/);
  });

  test("a long key against a pattern of many stars stays fast", () => {
    const p = compiled("*a*a*a*a*a*a*a*a*b");
    const started = performance.now();
    assert.equal(matches(p, "a".repeat(1024), nobody), false);
    assert.ok(performance.now() - started < 100);
  });
});
