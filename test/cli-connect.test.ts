/**
 * How the `nimbus` command finds the platform and its key from outside the platform's
 * directory: AWS_* variables (as `nimbus up` prints them), the order among its sources, the
 * messages when a key is refused or missing, and the bin run through symlinks from anywhere.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, NIMBUS, run } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
/** A directory with no .nimbus in it: the user's own project, say. */
let elsewhere: string;
/** The variables `nimbus up` tells the user to export. */
let exported: NodeJS.ProcessEnv;

before(async () => {
  t = await startPlatform();
  elsewhere = mkdtempSync(join(tmpdir(), "nimbus-cli-elsewhere-"));
  mkdirSync(join(elsewhere, "fn"));
  writeFileSync(join(elsewhere, "fn", "index.mjs"), "export const handler = async (e) => ({ echoed: e });");
  exported = {
    AWS_ENDPOINT_URL_LAMBDA: t.url,
    AWS_ACCESS_KEY_ID: t.platform.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.platform.credentials.secretAccessKey,
    AWS_REGION: "eu-west-1",
  };
});

after(async () => {
  await t.close();
  await rm(elsewhere, { recursive: true, force: true });
});

/** `nimbus ARGS` run from `elsewhere` with the clean environment plus `env`. */
function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  return run(process.execPath, [NIMBUS, ...args], { cwd: elsewhere, env: { ...cleanEnv(), ...env } });
}

describe("connecting from another directory", () => {
  test("the AWS_* variables `nimbus up` prints are enough: endpoint, key and region", async () => {
    const deployed = await cli(exported, "deploy", "./fn", "--name", "from-env");
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /^created from-env/);
    const invoked = await cli(exported, "invoke", "from-env", "--payload", '{"n":1}', "--json");
    assert.equal(invoked.code, 0, invoked.stderr);
    const out = JSON.parse(invoked.stdout);
    assert.deepEqual(out.Payload, { echoed: { n: 1 } });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, null);
    assert.match(out.LogTail, /^REPORT RequestId: /m);
  });

  test("AWS_ENDPOINT_URL serves when AWS_ENDPOINT_URL_LAMBDA is not set", async () => {
    const { AWS_ENDPOINT_URL_LAMBDA: _, ...rest } = exported;
    const res = await cli({ ...rest, AWS_ENDPOINT_URL: t.url }, "functions", "ls", "--json");
    assert.equal(res.code, 0, res.stderr);
    assert.ok(Array.isArray(JSON.parse(res.stdout).Functions));
  });

  test("an access key id the platform does not know exits 1 with the 403 and where the key came from", async () => {
    const res = await cli({ ...exported, AWS_ACCESS_KEY_ID: "AKIAWRONGKEY" }, "functions", "ls");
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /^error: UnrecognizedClientException: The security token included in the request is invalid: unknown access key id \(HTTP 403\)$/m,
    );
    assert.match(
      res.stderr,
      /refused the key AKIAWRONGKEY from AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY: use the pair `nimbus up` printed/,
    );
  });

  test("a wrong secret exits 1 with the signature mismatch", async () => {
    const res = await cli({ ...exported, AWS_SECRET_ACCESS_KEY: "not-the-secret" }, "functions", "ls");
    assert.equal(res.code, 1);
    assert.match(res.stderr, /InvalidSignatureException: The request signature we calculated does not match/);
    assert.match(res.stderr, /from AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
  });

  test("with no key anywhere the request goes unsigned, and the refusal says where a key is looked for", async () => {
    const res = await cli({ AWS_ENDPOINT_URL_LAMBDA: t.url }, "functions", "ls");
    assert.equal(res.code, 1);
    assert.match(res.stderr, /MissingAuthenticationTokenException/);
    assert.match(res.stderr, /no access key was found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.match(res.stderr, /looked for \.nimbus\/credentials\.json/);
  });

  test("flags beat NIMBUS_* variables, which beat AWS_* ones, which beat the data directory", async () => {
    const dead = await closedPort();
    // The endpoint: --endpoint over a dead AWS_ENDPOINT_URL_LAMBDA.
    const flag = await cli(
      { ...exported, AWS_ENDPOINT_URL_LAMBDA: dead },
      "functions",
      "ls",
      "--endpoint",
      t.url,
    );
    assert.equal(flag.code, 0, flag.stderr);
    // The key: the right NIMBUS_* pair over a wrong AWS_* pair.
    const nimbusKey = await cli(
      {
        ...exported,
        AWS_ACCESS_KEY_ID: "AKIAWRONGKEY",
        NIMBUS_ACCESS_KEY_ID: exported.AWS_ACCESS_KEY_ID,
        NIMBUS_SECRET_ACCESS_KEY: exported.AWS_SECRET_ACCESS_KEY,
      },
      "functions",
      "ls",
    );
    assert.equal(nimbusKey.code, 0, nimbusKey.stderr);
    // A wrong AWS_* pair over the data directory's right key: the environment is what counts.
    const overData = await cli(
      { AWS_ACCESS_KEY_ID: "AKIAWRONGKEY", AWS_SECRET_ACCESS_KEY: "x" },
      "functions",
      "ls",
      "--data",
      t.dataDir,
    );
    assert.equal(overData.code, 1);
    assert.match(overData.stderr, /refused the key AKIAWRONGKEY/);
    // And the data directory alone, endpoint and key, as in the platform's own checkout.
    const data = await cli({}, "functions", "ls", "--data", t.dataDir);
    assert.equal(data.code, 0, data.stderr);
  });

  test("an endpoint that does not answer is named, with where it came from", async () => {
    const dead = await closedPort();
    const res = await cli({ ...exported, AWS_ENDPOINT_URL_LAMBDA: dead }, "functions", "ls");
    assert.equal(res.code, 1);
    assert.equal(
      res.stderr.split("\n")[0],
      `error: cannot reach the platform at ${dead} (AWS_ENDPOINT_URL_LAMBDA): ECONNREFUSED; start it with \`nimbus up\`, or point at it with --endpoint URL or AWS_ENDPOINT_URL_LAMBDA`,
    );
  });

  test("an endpoint variable that is not a URL is a usage error naming it", async () => {
    const res = await cli({ ...exported, AWS_ENDPOINT_URL_LAMBDA: "localhost:9000" }, "functions", "ls");
    assert.equal(res.code, 2);
    assert.match(
      res.stderr,
      /AWS_ENDPOINT_URL_LAMBDA must be an http\(s\) URL like http:\/\/127\.0\.0\.1:9000, got "localhost:9000"/,
    );
  });
});

describe("the bin", () => {
  test("runs from any directory through the symlinks `npm link` makes", async () => {
    // npm link: <prefix>/lib/node_modules/nimbus → the checkout, <prefix>/bin/nimbus → its bin.
    const prefix = mkdtempSync(join(tmpdir(), "nimbus-cli-prefix-"));
    mkdirSync(join(prefix, "lib", "node_modules"), { recursive: true });
    mkdirSync(join(prefix, "bin"));
    symlinkSync(resolve("."), join(prefix, "lib", "node_modules", "nimbus"), "dir");
    symlinkSync("../lib/node_modules/nimbus/bin/nimbus.js", join(prefix, "bin", "nimbus"));
    // Run as a shell would: the link itself, `node` found on the PATH by its #! line.
    const env = {
      ...cleanEnv(),
      ...exported,
      PATH: [dirname(process.execPath), process.env.PATH].join(delimiter),
    };
    const linked = join(prefix, "bin", "nimbus");
    try {
      const deployed = await run(linked, ["deploy", "./fn", "--name", "linked"], { cwd: elsewhere, env });
      assert.equal(deployed.code, 0, deployed.stderr);
      const listed = await run(linked, ["functions", "ls"], { cwd: elsewhere, env });
      assert.match(listed.stdout, /^linked /m);
      const help = await run(linked, ["--help"], { cwd: elsewhere, env });
      assert.match(help.stdout, /^Usage: nimbus/);
    } finally {
      await rm(prefix, { recursive: true, force: true });
    }
  });

  test("a copy without its build says how to build it", async () => {
    const bare = mkdtempSync(join(tmpdir(), "nimbus-cli-bare-"));
    mkdirSync(join(bare, "bin"));
    copyFileSync(NIMBUS, join(bare, "bin", "nimbus.js"));
    try {
      const res = await run(process.execPath, [join(bare, "bin", "nimbus.js"), "--help"], {
        cwd: elsewhere,
        env: cleanEnv(),
      });
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /^error: nimbus is not built: run `npm install && npm run build` in .*nimbus-cli-bare-/,
      );
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});

/** The URL of a local port nothing listens on (one just closed). */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}
