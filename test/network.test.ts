/**
 * End to end: a function's network policy (`/nimbus/v1/functions/{name}/sandbox`) in the jail.
 * No test traffic leaves the machine: the destinations tried are a server of the test's own on
 * the host's loopback, the platform, PostgreSQL, and the host's own addresses (all denied or
 * answered here); a public address is never tried (the rule that allows one is unit-tested).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { NimbusClient, resolveClientOptions } from "../src/cli/client.js";
import { nimbus } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";

const PROBE = `import { connect } from "node:net";
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
const tryConnect = (host, port) => new Promise((resolve) => {
  const s = connect({ host, port, timeout: 3000 });
  let said = "";
  s.on("data", (c) => { said += c; });
  // Connected and answered: the test's server says its greeting and closes.
  s.on("end", () => { s.destroy(); resolve({ ok: true, said }); });
  s.on("timeout", () => { s.destroy(); resolve({ code: "TIMEOUT" }); });
  s.on("error", (e) => resolve({ code: e.code }));
});
export const handler = async (e) => {
  if (e.action === "lookup") return lookup(e.host).then((a) => ({ address: a.address }), (err) => ({ code: err.code }));
  if (e.action === "flush") {
    const r = spawnSync("/usr/sbin/nft", ["flush", "ruleset"], { encoding: "utf8" });
    return { status: r.status, error: r.stderr?.trim() || r.error?.code };
  }
  if (e.action === "uid") return { uid: process.getuid(), map: readFileSync("/proc/self/uid_map", "utf8").trim() };
  return tryConnect(e.host, e.port);
};`;

/** The host's own IPv4 addresses other than loopback (reachable from a networked jail but for the rules). */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((a) => a.family === "IPv4" && !a.internal)
    .map((a) => a.address);
}

describe("a function's network policy (jail)", () => {
  let t: TestPlatform;
  let client: NimbusClient;
  let server: Server;
  let port = 0;
  const GREETING = "hello from the host";

  before(async () => {
    t = await startPlatform({ poolSize: 0 });
    client = new NimbusClient(resolveClientOptions({ data: t.dataDir, endpoint: t.url }, {}));
    server = createServer((s) => s.end(GREETING));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
    await createNodeFunction(t.lambda, "probe", PROBE, { Timeout: 30 });
  });
  after(async () => {
    server?.close();
    await t?.close();
  });

  async function probe(payload: Record<string, unknown>) {
    const out = await t.lambda.send(
      new InvokeCommand({ FunctionName: "probe", Payload: JSON.stringify(payload) }),
    );
    assert.equal(out.FunctionError, undefined, text(out.Payload));
    return JSON.parse(text(out.Payload));
  }

  async function settings(method: "PUT" | "GET" | "DELETE", body?: unknown) {
    const res = await client.request(method, "/nimbus/v1/functions/probe/sandbox", {
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  }

  test("by default an instance has no network: nothing but its own loopback", async () => {
    assert.deepEqual((await settings("GET")).body, { tier: "default", internet: false, allow: [] });
    assert.deepEqual(await probe({ host: "10.0.2.2", port }), { code: "ENETUNREACH" });
    // No name resolves: it has no resolver to ask.
    const found = await probe({ action: "lookup", host: "host.nimbus.internal" });
    assert.ok(["ENOTFOUND", "EAI_AGAIN"].includes(found.code), JSON.stringify(found));
  });

  test("an allowed port of the host's loopback is reachable as host.nimbus.internal, and nothing else is", async () => {
    const put = await settings("PUT", { allow: [`127.0.0.1:${port}`] });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { tier: "default", internet: false, allow: [`127.0.0.1:${port}`] });
    assert.deepEqual(await probe({ host: "host.nimbus.internal", port }), { ok: true, said: GREETING });
    // The platform's own port, PostgreSQL: the same host loopback, other ports.
    const platformPort = Number(new URL(t.url).port);
    for (const p of [platformPort, 5432])
      assert.deepEqual(
        await probe({ host: "host.nimbus.internal", port: p }),
        { code: "EHOSTUNREACH" },
        `port ${p}`,
      );
    // The host's other addresses, and a private network: refused by the rules, nothing sent.
    for (const address of [...hostAddresses(), "10.20.30.40"])
      assert.deepEqual(await probe({ host: address, port }), { code: "EHOSTUNREACH" }, address);
    // Its rules are out of its reach: it holds no capability over its network namespace.
    const flushed = await probe({ action: "flush" });
    assert.notEqual(flushed.status, 0, JSON.stringify(flushed));
    assert.deepEqual(await probe({ host: "10.20.30.40", port }), { code: "EHOSTUNREACH" });
    // Its uid is still its own, not root of any namespace.
    const who = await probe({ action: "uid" });
    assert.notEqual(who.uid, 0);
  });

  test("internet: public addresses only; the host, its loopback and private ranges stay closed", async () => {
    assert.equal((await settings("PUT", { internet: true })).status, 200);
    assert.deepEqual(await probe({ host: "10.0.2.2", port }), { code: "EHOSTUNREACH" });
    for (const address of [...hostAddresses(), "192.168.1.1", "172.16.0.1", "169.254.169.254"])
      assert.deepEqual(await probe({ host: address, port: 80 }), { code: "EHOSTUNREACH" }, address);
    // Its own loopback is its own: nothing of the host answers there.
    assert.deepEqual(await probe({ host: "127.0.0.1", port }), { code: "ECONNREFUSED" });
  });

  test("removing the settings takes the network away from new instances", async () => {
    assert.equal((await settings("PUT", { allow: [`127.0.0.1:${port}`] })).status, 200);
    assert.deepEqual(await probe({ host: "host.nimbus.internal", port }), { ok: true, said: GREETING });
    assert.equal((await settings("DELETE")).status, 204);
    assert.deepEqual(await probe({ host: "10.0.2.2", port }), { code: "ENETUNREACH" });
  });

  test("bad settings are refused with what was wrong, and change nothing", async () => {
    const cases: [unknown, RegExp][] = [
      [{ allow: ["example.com:443"] }, /is not a destination: expected an IPv4 address or CIDR block/],
      [{ allow: ["10.0.0.1:70000"] }, /a port is 1 to 65535/],
      [{ allow: ["10.0.0.0/33"] }, /a prefix length is 0 to 32/],
      [{ allow: ["127.0.0.2:80"] }, /only 127.0.0.1 can be allowed/],
      [{ allow: "10.0.0.1" }, /allow must be a list of destinations/],
      [{ internet: "yes" }, /internet must be true or false/],
      [{ tier: "vm" }, /tier must be one of default, jail, gvisor, process/],
      [
        { tier: "process", internet: true },
        /process sandbox cannot be given a network|process sandbox shares the host's network/,
      ],
      [{ egress: true }, /unknown sandbox setting "egress"/],
      [{ allow: Array.from({ length: 65 }, (_, i) => `10.0.0.${i}`) }, /at most 64 destinations/],
    ];
    for (const [body, message] of cases) {
      const r = await settings("PUT", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match((r.body as { error: { message: string } }).error.message, message, JSON.stringify(body));
    }
    const notJson = await client.request("PUT", "/nimbus/v1/functions/probe/sandbox", { body: "{" });
    assert.equal(notJson.status, 400);
    const missing = await client.request("PUT", "/nimbus/v1/functions/nope/sandbox", { body: "{}" });
    assert.equal(missing.status, 404);
    assert.deepEqual((await settings("GET")).body, { tier: "default", internet: false, allow: [] });
  });

  test("nimbus sandbox shows, sets and resets the policy", async () => {
    const cli = (...args: string[]) => nimbus(t.dataDir, "sandbox", "probe", "--endpoint", t.url, ...args);
    let r = await cli("--allow", `127.0.0.1:${port}`, "--allow", "10.0.0.0/8:5432");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`network +127\\.0\\.0\\.1:${port}, 10\\.0\\.0\\.0/8:5432`));
    assert.deepEqual(await probe({ host: "host.nimbus.internal", port }), { ok: true, said: GREETING });
    r = await cli("--allow", "db.internal:5432");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"db.internal:5432" is not a destination/);
    r = await cli("--reset");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tier +the platform's default\n +network +none/);
  });
});
