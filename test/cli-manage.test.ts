/**
 * End to end through the `nimbus` command against a real platform on port 0: help, usage
 * errors and exit codes, and the noun–verb commands that manage functions, versions and
 * aliases, in their text and --json forms.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { nimbus } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

const HELLO = resolve("examples/hello");

let t: TestPlatform;
let cli: (...args: string[]) => ReturnType<typeof nimbus>;

before(async () => {
  t = await startPlatform();
  cli = (...args) => nimbus(t.dataDir, ...args);
});

after(async () => {
  await t.close();
});

/** Deploys `code` as index.mjs under `name`. */
async function deployCode(name: string, code: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-manage-"));
  writeFileSync(join(dir, "index.mjs"), code);
  const res = await cli("deploy", dir, "--name", name);
  await rm(dir, { recursive: true, force: true });
  assert.equal(res.code, 0, res.stderr);
}

describe("help and usage errors", () => {
  test("--help on a noun lists its verbs, on a verb its arguments and options, and exits 0", async () => {
    const noun = await cli("functions", "--help");
    assert.equal(noun.code, 0, noun.stderr);
    assert.match(noun.stdout, /^Usage: nimbus functions/);
    assert.match(noun.stdout, /^ {2}ls +list the functions$/m);
    assert.match(noun.stdout, /^ {2}get <name> +show a function's configuration$/m);
    assert.match(noun.stdout, /^ {2}rm <name> +delete a function, or one of its versions$/m);

    const verb = await cli("aliases", "set", "--help");
    assert.equal(verb.code, 0, verb.stderr);
    assert.match(verb.stdout, /^Usage: nimbus aliases set \[options\] <function> <alias>/);
    assert.match(verb.stdout, /--version <version> +the version it points to/);
    assert.match(verb.stdout, /Connection options:\n {2}--endpoint <url>/);
    assert.equal(verb.stderr, "");

    // Today's commands have it too, and `help COMMAND` is the same page.
    const deploy = await cli("deploy", "--help");
    assert.match(deploy.stdout, /--memory <mb> +memory size in MB/);
    assert.equal((await cli("help", "versions")).stdout, (await cli("versions", "--help")).stdout);
  });

  test("an unknown option exits 2 and names it, with where to read the usage", async () => {
    const res = await cli("functions", "ls", "--bogus");
    assert.equal(res.code, 2);
    assert.equal(res.stdout, "");
    assert.match(res.stderr, /^error: unknown option '--bogus'$/m);
    assert.match(res.stderr, /run "nimbus functions ls --help" for its usage/);
  });

  test("a bad option value exits 2 and says what is expected", async () => {
    const memory = await cli("deploy", HELLO, "--name", "x", "--memory", "lots");
    assert.equal(memory.code, 2);
    assert.match(
      memory.stderr,
      /option '--memory <mb>' argument 'lots' is invalid\. expected an integer from 128 to 10240/,
    );
    const status = await cli("invocations", "ls", "--status", "done");
    assert.equal(status.code, 2);
    assert.match(status.stderr, /expected one of queued, running, retrying, succeeded, failed/);
  });

  test("a missing argument, a noun without a verb and an unknown command exit 2", async () => {
    const missing = await cli("functions", "get");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing required argument 'name'/);

    const noVerb = await cli("versions");
    assert.equal(noVerb.code, 2);
    assert.match(noVerb.stderr, /publish <name> +publish \$LATEST as a new version/);

    const unknown = await cli("functoins", "ls");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'functoins'/);
  });
});

describe("functions", () => {
  test("ls lists functions as a table, and --json as Lambda's ListFunctions answer", async () => {
    await deployCode("lister", "export const handler = async () => 1;");
    const text = await cli("functions", "ls");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^NAME +RUNTIME +MEMORY +TIMEOUT +CODE SIZE +LAST MODIFIED$/m);
    assert.match(text.stdout, /^lister +nodejs20\.x +128 MB +3 s +\d+ B +\d{4}-\d\d-\d\dT/m);

    const json = await cli("functions", "ls", "--json");
    assert.equal(json.code, 0, json.stderr);
    const { Functions } = JSON.parse(json.stdout) as { Functions: Array<Record<string, unknown>> };
    const fn = Functions.find((f) => f.FunctionName === "lister");
    assert.equal(fn?.Runtime, "nodejs20.x");
    assert.equal(fn?.Version, "$LATEST");
  });

  test("get shows the configuration with variable names only; --json has the values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-cli-get-"));
    writeFileSync(join(dir, "index.mjs"), "export const handler = async () => process.env.GREETING;");
    const deployed = await cli("deploy", dir, "--name", "getter", "--env", "GREETING=hi", "--memory", "256");
    assert.equal(deployed.code, 0, deployed.stderr);
    await rm(dir, { recursive: true, force: true });

    const text = await cli("functions", "get", "getter");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^getter\n {2}arn +arn:aws:lambda:us-east-1:\d{12}:function:getter$/m);
    assert.match(text.stdout, /^ {2}memory +256 MB$/m);
    assert.match(text.stdout, /^ {2}environment GREETING$/m);
    assert.doesNotMatch(text.stdout, /hi/);

    const json = JSON.parse((await cli("functions", "get", "getter", "--json")).stdout);
    assert.equal(json.Configuration.FunctionName, "getter");
    assert.deepEqual(json.Configuration.Environment, { Variables: { GREETING: "hi" } });
    assert.match(json.Code.Location, /^http:\/\/127\.0\.0\.1:\d+\/nimbus\/v1\/packages\//);
  });

  test("rm deletes a function; getting it afterwards exits 1 with Lambda's not-found error", async () => {
    await deployCode("doomed", "export const handler = async () => 1;");
    const res = await cli("functions", "rm", "doomed");
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "deleted function doomed\n");
    const gone = await cli("functions", "get", "doomed");
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /^error: ResourceNotFoundException: Function not found: .*:function:doomed \(HTTP 404\)$/m,
    );
    assert.doesNotMatch((await cli("functions", "ls")).stdout, /doomed/);
  });
});

describe("versions and aliases", () => {
  test("versions publish numbers snapshots of $LATEST; versions ls lists them", async () => {
    await deployCode("versioned", "export const handler = async () => 'one';");
    const first = await cli("versions", "publish", "versioned", "--description", "first");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^published versioned version 1 \(CodeSha256 \S+\)\n$/);

    await deployCode("versioned", "export const handler = async () => 'two';");
    const second = JSON.parse((await cli("versions", "publish", "versioned", "--json")).stdout);
    assert.equal(second.Version, "2");
    assert.equal(second.FunctionArn.endsWith(":function:versioned:2"), true);

    const text = await cli("versions", "ls", "versioned");
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^VERSION +CODE SHA256 +LAST MODIFIED +DESCRIPTION\n\$LATEST .*\n1 .* first\n2 /,
    );
    const json = JSON.parse((await cli("versions", "ls", "versioned", "--json")).stdout);
    assert.deepEqual(
      json.Versions.map((v: { Version: string }) => v.Version),
      ["$LATEST", "1", "2"],
    );
  });

  test("aliases set creates then updates; get, ls and rm follow it; invoke goes through it", async () => {
    await deployCode("aliased", "export const handler = async () => 'v1';");
    await cli("versions", "publish", "aliased");
    await deployCode("aliased", "export const handler = async () => 'v2';");
    await cli("versions", "publish", "aliased");

    const needsVersion = await cli("aliases", "set", "aliased", "live");
    assert.equal(needsVersion.code, 2);
    assert.match(needsVersion.stderr, /--version is required to create alias "live" of aliased/);

    const created = await cli("aliases", "set", "aliased", "live", "--version", "1");
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, "created alias aliased:live → 1\n");
    assert.equal(JSON.parse((await cli("invoke", "aliased", "--qualifier", "live")).stdout), "v1");

    const updated = await cli("aliases", "set", "aliased", "live", "--version", "2", "--description", "prod");
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, "updated alias aliased:live → 2\n");
    assert.equal(JSON.parse((await cli("invoke", "aliased", "--qualifier", "live")).stdout), "v2");

    // Options left out keep their value: the description survives a weights-only update.
    const canary = await cli("aliases", "set", "aliased", "live", "--weight", "1=0.25", "--json");
    assert.equal(canary.code, 0, canary.stderr);
    const a = JSON.parse(canary.stdout);
    assert.equal(a.FunctionVersion, "2");
    assert.equal(a.Description, "prod");
    assert.deepEqual(a.RoutingConfig, { AdditionalVersionWeights: { "1": 0.25 } });

    const got = await cli("aliases", "get", "aliased", "live");
    assert.equal(got.code, 0, got.stderr);
    assert.match(
      got.stdout,
      /^aliased:live\n {2}arn +arn:aws:lambda:.*:function:aliased:live\n {2}version +2\n {2}routing +1=25%/,
    );
    const listed = await cli("aliases", "ls", "aliased");
    assert.match(listed.stdout, /^ALIAS +VERSION +ROUTING +DESCRIPTION\nlive +2 +1=25% +prod$/m);
    const listedJson = JSON.parse((await cli("aliases", "ls", "aliased", "--json")).stdout);
    assert.deepEqual(
      listedJson.Aliases.map((x: { Name: string }) => x.Name),
      ["live"],
    );

    const removed = await cli("aliases", "rm", "aliased", "live");
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await cli("aliases", "ls", "aliased")).stdout, "aliased has no aliases\n");
    const gone = await cli("aliases", "get", "aliased", "live");
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ResourceNotFoundException/);
  });

  test("functions rm --qualifier deletes one version and keeps the function", async () => {
    await deployCode("pruned", "export const handler = async () => 1;");
    await cli("versions", "publish", "pruned");
    const res = await cli("functions", "rm", "pruned", "--qualifier", "1");
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "deleted version 1 of pruned\n");
    const json = JSON.parse((await cli("versions", "ls", "pruned", "--json")).stdout);
    assert.deepEqual(
      json.Versions.map((v: { Version: string }) => v.Version),
      ["$LATEST"],
    );
  });
});
