import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDestination } from "../../protocol/sandbox.js";
import { egressRules, reachesHostLoopback } from "./network.js";

describe("destinations", () => {
  test("addresses, blocks and ports parse; host bits are cleared", () => {
    assert.deepEqual(parseDestination("10.0.0.5"), { address: "10.0.0.5", prefix: 32, port: undefined });
    assert.deepEqual(parseDestination("10.1.2.3/16:443"), { address: "10.1.0.0", prefix: 16, port: 443 });
    assert.deepEqual(parseDestination("0.0.0.0/0"), { address: "0.0.0.0", prefix: 0, port: undefined });
  });
  test("anything else is refused with what is expected", () => {
    for (const bad of [
      "",
      "example.com",
      "10.0.0",
      "10.0.0.256",
      "10.0.0.1/33",
      "10.0.0.1:0",
      "10.0.0.1:65536",
      "::1",
      " 10.0.0.1",
    ])
      assert.throws(
        () => parseDestination(bad),
        /expected an IPv4 address|prefix length|port is 1 to 65535/,
        bad,
      );
  });
});

describe("egress rules", () => {
  const host = [parseDestination("203.0.113.7"), parseDestination("203.0.113.0/24")];
  const lines = (internet: boolean, allow: string[]) =>
    egressRules({ internet, allow }, host)
      .split("\n")
      .map((l) => l.trim());

  test("allowed destinations come first, then every private range and the host's networks, then the verdict", () => {
    const r = lines(true, ["127.0.0.1:6379", "10.9.0.0/16:5432", "10.8.0.1"]);
    const at = (s: string) => r.findIndex((l) => l.startsWith(s));
    assert.ok(
      at("ip daddr 10.0.2.2 meta l4proto { tcp, udp } th dport 6379 accept") > 0,
      "loopback is slirp's host address",
    );
    assert.ok(at("ip daddr 10.9.0.0/16 meta l4proto { tcp, udp } th dport 5432 accept") > 0);
    assert.ok(at("ip daddr 10.8.0.1/32 accept") > 0);
    const firstDeny = at("ip daddr 0.0.0.0/8 reject");
    assert.ok(firstDeny > at("ip daddr 10.8.0.1/32 accept"));
    for (const range of [
      "10.0.0.0/8",
      "127.0.0.0/8",
      "169.254.0.0/16",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "100.64.0.0/10",
      "203.0.113.7/32",
      "203.0.113.0/24",
    ])
      assert.ok(at(`ip daddr ${range} reject`) >= firstDeny, range);
    assert.equal(r.at(-4), "accept", "then the internet");
  });

  test("without internet, whatever is not allowed is refused", () => {
    const r = lines(false, ["10.8.0.1:80"]);
    assert.equal(r.at(-4), "reject with icmpx type admin-prohibited");
    assert.ok(r.includes("type filter hook output priority 0; policy drop;"));
  });

  test("slirp carries the host's loopback only when a loopback destination is allowed", () => {
    assert.equal(reachesHostLoopback({ internet: true, allow: [] }), false);
    assert.equal(reachesHostLoopback({ internet: false, allow: ["10.0.0.1", "127.0.0.1:80"] }), true);
  });
});
