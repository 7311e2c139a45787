/**
 * End to end: the Lambda control plane as a user of @aws-sdk/client-lambda sees it. Versions,
 * aliases and weighted routing, ListFunctions paging, deploys that fail without changing
 * anything, input validation, reserved concurrency and function state.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  paginateListFunctions,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { startPlatform, type TestPlatform, text, zipOf } from "./helpers/platform.js";
import { rawZip } from "./helpers/raw-zip.js";

const MIB = 1024 * 1024;
let t: TestPlatform;
/** Signs raw requests, for bodies the SDK would never send. */
let raw: NimbusClient;

before(async () => {
  t = await startPlatform();
  raw = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  await t.close();
});

/** A package whose handler reports `v` and an id that is new in every instance. */
function versionCode(v: number): Promise<Buffer> {
  return zipOf({
    "index.mjs": `const instance = Math.random().toString(36).slice(2);
      export const handler = async () => ({ v: ${v}, instance });`,
  });
}

async function create(name: string, zip: Buffer, extra: Partial<CreateFunctionCommandInput> = {}) {
  return t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: zip },
      ...extra,
    }),
  );
}

async function invoke(name: string, qualifier?: string) {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: "{}", ...(qualifier ? { Qualifier: qualifier } : {}) }),
  );
  assert.equal(out.FunctionError, undefined, text(out.Payload));
  const body = JSON.parse(text(out.Payload)) as { v: number; instance: string };
  return { version: out.ExecutedVersion, v: body.v, instance: body.instance };
}

/** The call fails with Lambda's error `name` (and HTTP `status`), its message matching `message`. */
async function refused(call: Promise<unknown>, name: string, message?: RegExp, status?: number) {
  await assert.rejects(call, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    if (message) assert.match(err.message, message);
    if (status) assert.equal(err.$metadata?.httpStatusCode, status);
    return true;
  });
}

/** Every function name ListFunctions reports, following NextMarker page by page. */
async function allFunctionNames(pageSize = 50): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListFunctions({ client: t.lambda, pageSize }, {})) {
    assert.ok((page.Functions ?? []).length <= pageSize, "a page never holds more than MaxItems");
    names.push(...(page.Functions ?? []).map((f) => f.FunctionName!));
  }
  return names;
}

async function assertAbsent(name: string) {
  await refused(t.lambda.send(new GetFunctionCommand({ FunctionName: name })), "ResourceNotFoundException");
  assert.ok(!(await allFunctionNames()).includes(name), `${name} must not be listed`);
}

const publish = async (name: string) =>
  (await t.lambda.send(new PublishVersionCommand({ FunctionName: name }))).Version;
const updateCode = (name: string, zip: Buffer) =>
  t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }));

describe("versions", () => {
  test("PublishVersion numbers versions 1, 2, … and ListVersionsByFunction shows them after $LATEST", async () => {
    const created = await create("versioned", await versionCode(1));
    const v1 = await t.lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    assert.equal(v1.Version, "1");
    assert.equal(v1.FunctionArn, "arn:aws:lambda:us-east-1:000000000000:function:versioned:1");
    assert.equal(v1.CodeSha256, created.CodeSha256);
    await updateCode("versioned", await versionCode(2));
    assert.equal(await publish("versioned"), "2");
    const listed = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "versioned" }));
    assert.deepEqual(
      listed.Versions?.map((v) => v.Version),
      ["$LATEST", "1", "2"],
    );
  });

  test("publishing again with nothing changed returns the last version instead of a new one", async () => {
    assert.equal(await publish("versioned"), "2");
    const listed = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "versioned" }));
    assert.equal(listed.Versions?.length, 3);
  });

  test("invoking with Qualifier 1 runs version 1's code after $LATEST has moved on", async () => {
    const one = await invoke("versioned", "1");
    assert.equal(one.version, "1");
    assert.equal(one.v, 1);
    const latest = await invoke("versioned");
    assert.equal(latest.version, "$LATEST");
    assert.equal(latest.v, 2);
    const two = await invoke("versioned:2");
    assert.equal(two.version, "2");
    assert.equal(two.v, 2);
  });

  test("code that matches an older version but not the last one is published as a new version", async () => {
    // Lambda compares $LATEST with the last published version only, so rolling back publishes 3.
    await updateCode("versioned", await versionCode(1));
    assert.equal(await publish("versioned"), "3");
    assert.equal((await invoke("versioned", "3")).v, 1);
  });

  test("a changed configuration is published as a new version", async () => {
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "versioned", Timeout: 5 }));
    const v4 = await t.lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    assert.equal(v4.Version, "4");
    assert.equal(v4.Timeout, 5);
  });

  test("an unknown version is a 404 ResourceNotFoundException for Invoke and GetFunction", async () => {
    await refused(invoke("versioned", "9"), "ResourceNotFoundException", /versioned:9/, 404);
    await refused(
      t.lambda.send(new GetFunctionCommand({ FunctionName: "versioned", Qualifier: "9" })),
      "ResourceNotFoundException",
      /versioned:9/,
      404,
    );
  });
});

describe("aliases", () => {
  before(async () => {
    await create("routed", await versionCode(1));
    await publish("routed");
    await updateCode("routed", await versionCode(2));
    await publish("routed");
  });

  const getAlias = (name: string) =>
    t.lambda.send(new GetAliasCommand({ FunctionName: "routed", Name: name }));

  test("an alias can be created, read, listed, updated and deleted", async () => {
    const created = await t.lambda.send(
      new CreateAliasCommand({
        FunctionName: "routed",
        Name: "live",
        FunctionVersion: "1",
        Description: "prod",
      }),
    );
    assert.equal(created.AliasArn, "arn:aws:lambda:us-east-1:000000000000:function:routed:live");
    assert.equal(created.FunctionVersion, "1");
    const got = await getAlias("live");
    assert.equal(got.Description, "prod");
    assert.equal(got.RevisionId, created.RevisionId);
    const listed = await t.lambda.send(new ListAliasesCommand({ FunctionName: "routed" }));
    assert.deepEqual(
      listed.Aliases?.map((a) => [a.Name, a.FunctionVersion]),
      [["live", "1"]],
    );
    await refused(
      t.lambda.send(new CreateAliasCommand({ FunctionName: "routed", Name: "live", FunctionVersion: "2" })),
      "ResourceConflictException",
      /live/,
      409,
    );
    await t.lambda.send(
      new UpdateAliasCommand({ FunctionName: "routed", Name: "live", FunctionVersion: "2" }),
    );
    const moved = await getAlias("live");
    assert.equal(moved.FunctionVersion, "2");
    assert.equal(moved.Description, "prod", "an update keeps what it does not name");
    await t.lambda.send(new DeleteAliasCommand({ FunctionName: "routed", Name: "live" }));
    await refused(getAlias("live"), "ResourceNotFoundException", /live/, 404);
    const remaining = await t.lambda.send(new ListAliasesCommand({ FunctionName: "routed" }));
    assert.deepEqual(remaining.Aliases, []);
  });

  test("invoking through an alias runs, and reports, the version the alias points to", async () => {
    await t.lambda.send(
      new CreateAliasCommand({ FunctionName: "routed", Name: "prod", FunctionVersion: "1" }),
    );
    const one = await invoke("routed", "prod");
    assert.deepEqual([one.version, one.v], ["1", 1]);
    await t.lambda.send(
      new UpdateAliasCommand({ FunctionName: "routed", Name: "prod", FunctionVersion: "2" }),
    );
    const two = await invoke("routed:prod");
    assert.deepEqual([two.version, two.v], ["2", 2]);
  });

  test("an alias weighted 0.3 towards a second version sends it about 30% of 400 invocations", async () => {
    await t.lambda.send(
      new CreateAliasCommand({
        FunctionName: "routed",
        Name: "canary",
        FunctionVersion: "1",
        RoutingConfig: { AdditionalVersionWeights: { "2": 0.3 } },
      }),
    );
    const alias = await getAlias("canary");
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { "2": 0.3 });
    const runs = { "1": 0, "2": 0 };
    // 400 calls put the 0.2 to 0.4 band more than 4 standard deviations from 0.3 on each side.
    for (let i = 0; i < 400; i++) {
      const out = await invoke("routed", "canary");
      assert.equal(String(out.v), out.version, "the reported version is the code that ran");
      runs[out.version as "1" | "2"]++;
    }
    assert.equal(runs["1"] + runs["2"], 400);
    const share = runs["2"] / 400;
    assert.ok(share >= 0.2 && share <= 0.4, `version 2 ran ${runs["2"]} of 400 times`);
  });

  test("routing weights above 1 or below 0 are refused with InvalidParameterValueException", async () => {
    for (const weight of [1.5, -0.1]) {
      await refused(
        t.lambda.send(
          new CreateAliasCommand({
            FunctionName: "routed",
            Name: "bad-weight",
            FunctionVersion: "1",
            RoutingConfig: { AdditionalVersionWeights: { "2": weight } },
          }),
        ),
        "InvalidParameterValueException",
        new RegExp(`Value '${weight}' at 'routingConfig.additionalVersionWeights.2'.*0.0 to 1.0`),
        400,
      );
    }
    await refused(getAlias("bad-weight"), "ResourceNotFoundException");
  });

  test("weighted routing from $LATEST, or to the alias's own version, is refused", async () => {
    const createWith = (FunctionVersion: string, weights: Record<string, number>) =>
      t.lambda.send(
        new CreateAliasCommand({
          FunctionName: "routed",
          Name: "bad-routing",
          FunctionVersion,
          RoutingConfig: { AdditionalVersionWeights: weights },
        }),
      );
    await refused(createWith("$LATEST", { "2": 0.5 }), "InvalidParameterValueException", /not \$LATEST/);
    await refused(createWith("2", { "2": 0.5 }), "InvalidParameterValueException", /own version 2/);
    // The canary alias routes 1 → 2 at 0.3: moving its primary version keeps that routing, so
    // the move must be judged with it.
    const move = (FunctionVersion: string) =>
      t.lambda.send(new UpdateAliasCommand({ FunctionName: "routed", Name: "canary", FunctionVersion }));
    await refused(move("2"), "InvalidParameterValueException", /own version 2/);
    await refused(move("$LATEST"), "InvalidParameterValueException", /not \$LATEST/);
    const canary = await getAlias("canary");
    assert.equal(canary.FunctionVersion, "1", "a refused update changes nothing");
    assert.deepEqual(canary.RoutingConfig?.AdditionalVersionWeights, { "2": 0.3 });
  });

  test("an alias to a version that does not exist is refused with ResourceNotFoundException", async () => {
    await refused(
      t.lambda.send(new CreateAliasCommand({ FunctionName: "routed", Name: "ghost", FunctionVersion: "7" })),
      "ResourceNotFoundException",
      /routed:7/,
      404,
    );
    await refused(
      t.lambda.send(
        new CreateAliasCommand({
          FunctionName: "routed",
          Name: "ghost",
          FunctionVersion: "1",
          RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
        }),
      ),
      "ResourceNotFoundException",
      /routed:7/,
    );
    await refused(getAlias("ghost"), "ResourceNotFoundException");
  });

  test("a version an alias uses cannot be deleted (ResourceConflictException) until no alias uses it", async () => {
    const deleteVersion = (v: string) =>
      t.lambda.send(new DeleteFunctionCommand({ FunctionName: "routed", Qualifier: v }));
    // prod points at 2; canary points at 1 and routes to 2.
    await refused(deleteVersion("1"), "ResourceConflictException", /aliases reference it: \[canary\]/, 409);
    await refused(deleteVersion("2"), "ResourceConflictException", /\[canary, prod\]/, 409);
    assert.equal((await invoke("routed", "1")).v, 1, "version 1 still runs");
    await t.lambda.send(new DeleteAliasCommand({ FunctionName: "routed", Name: "canary" }));
    await deleteVersion("1");
    await refused(invoke("routed", "1"), "ResourceNotFoundException", /routed:1/);
    const versions = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "routed" }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ["$LATEST", "2"],
    );
  });
});

describe("ListFunctions paging", () => {
  const names = ["page-c", "page-a", "page-e", "page-b", "page-d"];
  before(async () => {
    const zip = await versionCode(1);
    for (const name of names) await create(name, zip);
  });

  test("pages of 2 list every function exactly once, in name order, the same way every time", async () => {
    let pages = 0;
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await t.lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      pages++;
      assert.ok(page.Functions!.length <= 2);
      seen.push(...page.Functions!.map((f) => f.FunctionName!));
      marker = page.NextMarker;
    } while (marker);
    assert.equal(new Set(seen).size, seen.length, `no function twice: ${seen.join(", ")}`);
    for (const name of names) assert.ok(seen.includes(name), `${name} is listed`);
    assert.deepEqual(seen, [...seen].sort(), "functions come in name order");
    assert.equal(pages, Math.ceil(seen.length / 2));
    assert.deepEqual(await allFunctionNames(2), seen, "the SDK paginator sees the same list");
    assert.deepEqual(await allFunctionNames(1000), seen, "one big page holds the same list");
  });

  test("a Marker that did not come from ListFunctions is refused with InvalidParameterValueException", async () => {
    for (const marker of ["page-b", "not a marker", "eyJub3BlIjp0cnVlfQ"]) {
      await refused(
        t.lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker })),
        "InvalidParameterValueException",
        /Marker .* is not a NextMarker/,
        400,
      );
    }
  });

  test("MaxItems outside 1 to 10000 is refused", async () => {
    for (const n of [0, 10_001]) {
      await refused(
        t.lambda.send(new ListFunctionsCommand({ MaxItems: n })),
        "InvalidParameterValueException",
        new RegExp(`MaxItems must be an integer from 1 to 10000, got ${n}`),
      );
    }
  });
});

/** Packages that must never be deployed, and what the platform says about each. */
const HOSTILE: readonly { what: string; zip: () => Buffer; error: string; message: RegExp }[] = [
  {
    what: "bytes that are not a zip",
    zip: () => Buffer.from("this is not a zip file at all"),
    error: "InvalidZipFileException",
    message: /package is not a valid zip archive/,
  },
  {
    what: "a zip cut short",
    zip: () => rawZip([{ name: "index.mjs", data: "export const handler = () => 1;" }]).subarray(0, 60),
    error: "InvalidZipFileException",
    message: /package is not a valid zip archive/,
  },
  {
    what: "an entry named ../escape.js",
    zip: () => rawZip([{ name: "../escape.js", data: "x" }]),
    error: "InvalidZipFileException",
    message: /entry "..\/escape.js" escapes the package/,
  },
  {
    what: "an entry with an absolute path",
    zip: () => rawZip([{ name: "/etc/cron.d/evil", data: "x" }]),
    error: "InvalidZipFileException",
    message: /entry "\/etc\/cron.d\/evil" is an absolute path/,
  },
  {
    what: "a symlink that climbs out of the package",
    zip: () =>
      rawZip([
        { name: "index.mjs", data: "export const handler = () => 1;" },
        { name: "lib/passwd", data: "../../etc/passwd", unixMode: 0o120777 },
      ]),
    error: "InvalidZipFileException",
    message: /symlink "lib\/passwd" points to "..\/..\/etc\/passwd", which climbs out of the package/,
  },
  {
    what: "a symlink to an absolute path",
    zip: () => rawZip([{ name: "index.mjs", data: "/etc/passwd", unixMode: 0o120777 }]),
    error: "InvalidZipFileException",
    message: /symlink "index.mjs" points to "\/etc\/passwd", which is an absolute path/,
  },
  {
    what: "a zip bomb whose header understates what it inflates to",
    zip: () => rawZip([{ name: "bomb.bin", data: Buffer.alloc(2 * MIB), method: 8, declaredSize: 1000 }]),
    error: "InvalidZipFileException",
    message: /entry "bomb.bin" inflates to more than the 1000 bytes its header declares/,
  },
  {
    what: "a package that would unzip to more than 250 MB",
    zip: () => rawZip([{ name: "huge.bin", data: "x", declaredSize: 300 * MIB }]),
    error: "InvalidParameterValueException",
    message: /package unzips to 300.0 MB, limit is 250 MB/,
  },
];

describe("UpdateFunctionCode is all or nothing", () => {
  test("a corrupt or hostile package is refused and the function keeps serving its old code", async () => {
    const created = await create("atomic", await versionCode(1));
    const warm = await invoke("atomic");
    assert.equal(warm.v, 1);
    for (const bad of HOSTILE) {
      await refused(updateCode("atomic", bad.zip()), bad.error, bad.message, 400);
      const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: "atomic" }));
      assert.equal(fn.Configuration?.CodeSha256, created.CodeSha256, `${bad.what}: code unchanged`);
      assert.equal(fn.Configuration?.RevisionId, created.RevisionId, `${bad.what}: revision unchanged`);
      assert.deepEqual(await invoke("atomic"), warm, `${bad.what}: the same warm instance serves v1`);
    }
    await refused(
      t.lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: "atomic", ZipFile: HOSTILE[2]!.zip(), Publish: true }),
      ),
      "InvalidZipFileException",
    );
    const versions = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "atomic" }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ["$LATEST"],
      "nothing was published",
    );
  });

  test("a good package replaces the code at once, and the warm instance of the old code is not used", async () => {
    const old = await t.lambda.send(new GetFunctionCommand({ FunctionName: "atomic" }));
    const warm = await invoke("atomic");
    const updated = await updateCode("atomic", await versionCode(2));
    assert.notEqual(updated.CodeSha256, old.Configuration?.CodeSha256);
    const next = await invoke("atomic");
    assert.equal(next.v, 2);
    assert.notEqual(next.instance, warm.instance, "a fresh instance runs the new code");
    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: "atomic" }));
    assert.equal(fn.Configuration?.CodeSha256, updated.CodeSha256);
  });
});

describe("CreateFunction with a hostile package", () => {
  for (const [i, bad] of HOSTILE.entries()) {
    test(`${bad.what} is refused with ${bad.error} and leaves no function behind`, async () => {
      const name = `hostile-${i}`;
      await refused(create(name, bad.zip()), bad.error, bad.message, 400);
      await assertAbsent(name);
    });
  }
});

describe("bad input", () => {
  let good: Buffer;
  before(async () => {
    good = await versionCode(1);
  });

  test("an invalid function name is refused and says which name and what is allowed", async () => {
    for (const name of ["has space", "semi;colon", "a".repeat(65)]) {
      await refused(
        create(name, good),
        "InvalidParameterValueException",
        new RegExp(`Value '${name}' at 'functionName'.*1 to 64 characters of letters, digits`),
        400,
      );
    }
    const listed = await allFunctionNames();
    assert.ok(!listed.some((n) => n.includes(" ") || n.includes(";") || n.length > 64));
    await create("a".repeat(64), good);
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "a".repeat(64) }));
  });

  test("memory, timeout, runtime and handler out of range are refused, naming the field and the range", async () => {
    const cases: [Partial<CreateFunctionCommandInput>, RegExp][] = [
      [{ MemorySize: 127 }, /Value '127' at 'memorySize'.*from 128 to 10240/],
      [{ MemorySize: 10241 }, /Value '10241' at 'memorySize'.*from 128 to 10240/],
      [{ Timeout: 0 }, /Value '0' at 'timeout'.*from 1 to 900/],
      [{ Timeout: 901 }, /Value '901' at 'timeout'.*from 1 to 900/],
      [{ Runtime: "python3.12" }, /Value 'python3.12' at 'runtime'.*nodejs20.x/],
      [{ Runtime: "nodejs18.x" }, /Value 'nodejs18.x' at 'runtime'.*nodejs20.x/],
      [{ Handler: undefined }, /Value 'null' at 'handler'.*e.g. index.handler/],
      [{ Handler: "index handler" }, /Value 'index handler' at 'handler'.*without whitespace/],
    ];
    for (const [extra, message] of cases) {
      await refused(create("misconfigured", good, extra), "InvalidParameterValueException", message, 400);
    }
    await assertAbsent("misconfigured");
  });

  test("an environment variable with a reserved key is refused, naming the key", async () => {
    await refused(
      create("reserved-env", good, {
        Environment: { Variables: { AWS_REGION: "eu-west-1", LAMBDA_TASK_ROOT: "/tmp", OK: "1" } },
      }),
      "InvalidParameterValueException",
      /reserved keys .*Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT$/,
      400,
    );
    await assertAbsent("reserved-env");
  });

  test("a body that is not JSON is refused with InvalidRequestContentException", async () => {
    for (const [method, path] of [
      ["POST", "/2015-03-31/functions"],
      ["PUT", "/2015-03-31/functions/versioned/configuration"],
      ["POST", "/2015-03-31/functions/versioned/aliases"],
    ] as const) {
      const res = await raw.request(method, path, { body: '{"FunctionName": "half' });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.equal(res.headers.get("x-amzn-errortype"), "InvalidRequestContentException");
      assert.match(
        ((await res.json()) as { message: string }).message,
        /^Could not parse request body into json/,
      );
    }
    const array = await raw.request("POST", "/2015-03-31/functions", { body: "[1, 2]" });
    assert.equal(array.headers.get("x-amzn-errortype"), "InvalidRequestContentException");
    assert.match(((await array.json()) as { message: string }).message, /must be a JSON object/);
  });

  test("a field of the wrong type is refused with InvalidParameterValueException naming it", async () => {
    const body = JSON.stringify({
      FunctionName: "typed",
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      MemorySize: "256",
      Code: { ZipFile: good.toString("base64") },
    });
    const res = await raw.request("POST", "/2015-03-31/functions", { body });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-amzn-errortype"), "InvalidParameterValueException");
    assert.match(
      ((await res.json()) as { message: string }).message,
      /Value '256' at 'memorySize'.*Member must be an integer/,
    );
    await assertAbsent("typed");
  });

  test("creating a function that exists is a 409 ResourceConflictException and changes nothing", async () => {
    const first = await create("taken", good);
    await refused(
      create("taken", await versionCode(2), { MemorySize: 512 }),
      "ResourceConflictException",
      /Function already exist: taken/,
      409,
    );
    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: "taken" }));
    assert.equal(fn.Configuration?.CodeSha256, first.CodeSha256);
    assert.equal(fn.Configuration?.MemorySize, 128);
  });
});

describe("reserved concurrency", () => {
  before(async () => {
    const zip = await versionCode(1);
    await create("reserver", zip);
    await create("reserver-2", zip);
  });
  const put = (name: string, n: number) =>
    t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: n }));
  const get = async (name: string) =>
    (await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name })))
      .ReservedConcurrentExecutions;
  const unreserved = async () =>
    (await t.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions;

  test("PutFunctionConcurrency, GetFunctionConcurrency and DeleteFunctionConcurrency round trip", async () => {
    assert.equal(await get("reserver"), undefined);
    assert.equal((await put("reserver", 5)).ReservedConcurrentExecutions, 5);
    assert.equal(await get("reserver"), 5);
    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: "reserver" }));
    assert.equal(fn.Concurrency?.ReservedConcurrentExecutions, 5);
    assert.equal(await unreserved(), 995);
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "reserver" }));
    assert.equal(await get("reserver"), undefined);
    assert.equal(await unreserved(), 1000);
  });

  test("a reservation that would leave the other functions less than 100 unreserved is refused", async () => {
    // The platform's account limit is 1000; like Lambda, it keeps 100 of it unreserved.
    await refused(
      put("reserver", 901),
      "InvalidParameterValueException",
      /decreases account's UnreservedConcurrentExecution below its minimum value of \[100\]: 901 requested, 1000 unreserved available/,
      400,
    );
    await put("reserver", 600);
    await refused(put("reserver-2", 301), "InvalidParameterValueException", /301 requested, 400 unreserved/);
    assert.equal(await get("reserver-2"), undefined, "a refused reservation is not stored");
    await put("reserver-2", 300);
    assert.equal(await unreserved(), 100);
    await refused(put("reserver", 601), "InvalidParameterValueException", /601 requested, 700 unreserved/);
    assert.equal((await put("reserver", 300)).ReservedConcurrentExecutions, 300, "lowering is fine");
    await refused(put("reserver", -1), "InvalidParameterValueException", /greater than or equal to 0/);
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "reserver" }));
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "reserver-2" }));
    assert.equal(await unreserved(), 1000);
  });
});

describe("function state", () => {
  test("GetFunction reports State Active and the SDK's waiters finish on their first poll", async () => {
    const created = await create("ready", await versionCode(1));
    assert.equal(created.State, "Active");
    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: "ready" }));
    assert.equal(fn.Configuration?.State, "Active");
    assert.equal(fn.Configuration?.LastUpdateStatus, "Successful");
    // Each waiter waits at least minDelay (2 s here) before a second poll.
    const waiter = { client: t.lambda, maxWaitTime: 10, minDelay: 2 };
    const started = performance.now();
    assert.equal((await waitUntilFunctionActiveV2(waiter, { FunctionName: "ready" })).state, "SUCCESS");
    await updateCode("ready", await versionCode(2));
    assert.equal((await waitUntilFunctionUpdatedV2(waiter, { FunctionName: "ready" })).state, "SUCCESS");
    assert.ok(performance.now() - started < 1500, "no waiter had to poll twice");
  });
});
