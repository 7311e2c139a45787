/**
 * docs/errors.md and the error catalogue say the same: every code users can meet is documented
 * with its status and its Lambda name (the Lambda API's own table), and the page lists no code
 * the platform cannot answer.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { LAMBDA_NAMES } from "../gateway/surfaces/lambda-api/errors.js";
import { ERROR_CATALOGUE, type ErrorCode } from "./errors.js";

interface DocumentedError {
  readonly status: number;
  readonly code: string;
  readonly lambdaName: string;
}

/** The rows of the table under "## Errors of the API": `| 404 | \`NotFound\` | \`ResourceNotFoundException\` | … |`. */
function documentedErrors(): DocumentedError[] {
  // From dist/src/shared/ (compiled) or src/shared/ alike: the repository's docs/.
  const markdown = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
  const start = markdown.indexOf("\n## Errors of the API\n");
  assert.ok(start !== -1, 'docs/errors.md has no "## Errors of the API" section');
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf("\n## ", 1);
  const section = end === -1 ? rest : rest.slice(0, end);
  const rows = section.split("\n").filter((line) => /^\| \d{3} \|/.test(line));
  return rows.map((line) => {
    const m = /^\| (\d{3}) \| `(\w+)` \| `(\w+)` \|/.exec(line);
    assert.ok(m, `docs/errors.md row is not "| status | \`Code\` | \`LambdaName\` | when |": ${line}`);
    return { status: Number(m[1]), code: m[2]!, lambdaName: m[3]! };
  });
}

test("every code of the catalogue is documented in docs/errors.md with its status and Lambda name", () => {
  const documented = new Map(documentedErrors().map((d) => [d.code, d]));
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    const lambdaName = LAMBDA_NAMES[code as ErrorCode];
    const row = documented.get(code);
    assert.ok(row, `${code} (${entry.status} ${lambdaName}) is not in docs/errors.md`);
    assert.equal(row.status, entry.status, `${code}: docs/errors.md says ${row.status}`);
    assert.equal(row.lambdaName, lambdaName, `${code}: docs/errors.md says ${row.lambdaName}`);
  }
});

test("docs/errors.md documents only codes of the catalogue, each once", () => {
  const rows = documentedErrors();
  assert.ok(rows.length > 0, "no rows found under '## Errors of the API'");
  for (const row of rows) {
    assert.ok(row.code in ERROR_CATALOGUE, `docs/errors.md lists ${row.code}, which the catalogue has not`);
  }
  const codes = rows.map((r) => r.code);
  assert.deepEqual(
    codes.filter((c, i) => codes.indexOf(c) !== i),
    [],
    "codes listed twice",
  );
});
