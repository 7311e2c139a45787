/**
 * Egress for jailed instances whose function is allowed a network (`FunctionSandbox`).
 *
 * Such a jail is made inside a user and network namespace of its own (`unshare`), so that its
 * network namespace belongs to a user namespace the sandboxed processes are not in (bubblewrap
 * nests theirs one level down): nothing inside can change the network's rules. slirp4netns
 * (Debian's `slirp4netns`, user-mode networking, unprivileged, with its own sandbox and
 * seccomp filter) gives the namespace a `tap0` whose traffic it carries out through the host's
 * sockets. Before the runtime starts, an nftables ruleset inside the namespace decides what it
 * may reach: the destinations the function allows, then nothing private (the host's own
 * addresses and networks, loopback, RFC 1918, link-local, CGNAT, multicast, reserved), then the
 * public internet when `internet` is set. The host's 127.0.0.1 is reachable only as
 * `host.nimbus.internal` (slirp's 10.0.2.2), and only on the ports allowed.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import type { Writable } from "node:stream";
import {
  type Destination,
  type FunctionSandbox,
  isLoopback,
  parseDestination,
} from "../../protocol/sandbox.js";
import { findExecutable, TOOL_PATH } from "./host-root.js";

/** slirp4netns's addresses inside the namespace (its defaults). */
export const SLIRP_HOST = "10.0.2.2";
export const SLIRP_DNS = "10.0.2.3";
/** The name the host's loopback has inside (in the jail's /etc/hosts). */
export const HOST_NAME = "host.nimbus.internal";
/** slirp4netns's largest MTU: fewer, larger packets through the user-mode stack. */
const MTU = 65520;
/** How long slirp4netns and nft may take to set a namespace up. */
const SETUP_TIMEOUT_MS = 10_000;

/** Ranges that are never public: denied unless a destination is allowed by name. */
const PRIVATE_RANGES = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

/**
 * What a denied destination gets: an ICMP "administratively prohibited" from the rules, so a
 * connect fails at once (EHOSTUNREACH) instead of timing out, and nothing is sent.
 */
const REJECT = "reject with icmpx type admin-prohibited";

const TOOLS = ["unshare", "slirp4netns", "nsenter", "nft"] as const;

/** Why jailed instances cannot be given a network on this host; undefined when they can. */
export function egressProblem(): string | undefined {
  if (process.platform !== "linux") return "egress needs Linux network namespaces";
  const missing = TOOLS.filter((t) => findExecutable(t) === undefined);
  if (missing.length > 0)
    return `${missing.join(", ")} not found (Debian's packages: util-linux, slirp4netns, nftables)`;
  const tun = statSync("/dev/net/tun", { throwIfNoEntry: false });
  if (!tun) return "/dev/net/tun does not exist (the tun module is not loaded)";
  // slirp4netns opens it as the instance's user.
  if ((tun.mode & 0o006) !== 0o006)
    return `/dev/net/tun is mode ${(tun.mode & 0o777).toString(8)}: unprivileged users need read and write (0666, most distributions' default: chmod 0666 /dev/net/tun)`;
  return undefined;
}

/** The host's own addresses and the networks it is on (its neighbours are not public). */
export function hostNetworks(): Destination[] {
  const out: Destination[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== "IPv4" || a.internal) continue;
      out.push(parseDestination(a.address));
      if (a.cidr) out.push(parseDestination(a.cidr));
    }
  }
  return out;
}

/** The nftables ruleset for a namespace: what its instance may reach, in order. */
export function egressRules(policy: FunctionSandbox, host: readonly Destination[]): string {
  const rules: string[] = [`oifname "lo" accept`, `ct state established,related accept`];
  rules.push(`ip daddr ${SLIRP_DNS} meta l4proto { tcp, udp } th dport 53 accept`);
  for (const text of policy.allow) {
    const d = parseDestination(text);
    // The host's loopback is slirp's gateway address inside.
    const address = isLoopback(d) ? SLIRP_HOST : `${d.address}/${d.prefix}`;
    rules.push(
      d.port === undefined
        ? `ip daddr ${address} accept`
        : `ip daddr ${address} meta l4proto { tcp, udp } th dport ${d.port} accept`,
    );
  }
  const denied = [...PRIVATE_RANGES, ...host.map((d) => `${d.address}/${d.prefix}`)];
  for (const range of new Set(denied)) rules.push(`ip daddr ${range} ${REJECT}`);
  // Only IPv4 leaves: slirp4netns is not given IPv6.
  rules.push(`meta nfproto ipv6 ${REJECT}`);
  rules.push(policy.internet ? "accept" : REJECT);
  return [
    "table inet nimbus {",
    "  chain egress {",
    "    type filter hook output priority 0; policy drop;",
    ...rules.map((r) => `    ${r}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Whether the policy lets the instance reach the host's loopback (slirp must then carry it). */
export function reachesHostLoopback(policy: FunctionSandbox): boolean {
  return policy.allow.some((a) => isLoopback(parseDestination(a)));
}

/** Files the jail of a networked instance gets in /etc. */
export const NETWORK_FILES = {
  "/etc/resolv.conf": `nameserver ${SLIRP_DNS}\n`,
  "/etc/hosts": `127.0.0.1 localhost\n::1 localhost\n${SLIRP_HOST} ${HOST_NAME}\n`,
  "/etc/nsswitch.conf": "hosts: files dns\n",
} as const;

export interface Egress {
  /** Stops the network (slirp4netns). */
  stop(): void;
}

/**
 * Gives the namespace of `outerPid` (the jail's `unshare`d bubblewrap, in the outer user and
 * network namespaces) its network and rules. slirp4netns runs as the instance's `uid`; the
 * rules go in through nsenter, as the outer namespace's root.
 */
export async function attachEgress(o: {
  outerPid: number;
  uid: number | undefined;
  policy: FunctionSandbox;
  host: readonly Destination[];
}): Promise<Egress> {
  const slirp = spawn(
    "slirp4netns",
    [
      "--configure",
      `--mtu=${MTU}`,
      ...(reachesHostLoopback(o.policy) ? [] : ["--disable-host-loopback"]),
      "--enable-sandbox",
      "--enable-seccomp",
      "--ready-fd=3",
      "--exit-fd=4",
      String(o.outerPid),
      "tap0",
    ],
    {
      env: {},
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
      ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.uid }),
    },
  );
  // While the platform holds this pipe open slirp4netns runs; it ends when the platform does.
  const exitPipe = slirp.stdio[4] as Writable;
  exitPipe.on("error", () => {});
  const stop = () => {
    exitPipe.destroy();
    slirp.kill("SIGKILL");
  };
  let said = "";
  slirp.stderr?.on("data", (c: Buffer) => {
    said = (said + c.toString()).slice(-1000);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const readyPipe = slirp.stdio[3] as NodeJS.ReadableStream;
    readyPipe.once("data", () => resolve());
    slirp.once("error", reject);
    slirp.once("exit", (code, signal) =>
      reject(new Error(`slirp4netns exited (${code ?? signal}) before the network was up: ${said.trim()}`)),
    );
  });
  const rules = run(
    "nsenter",
    ["--target", String(o.outerPid), "--user", "--net", "--", "nft", "-f", "-"],
    egressRules(o.policy, o.host),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error("the instance's network was not up in time")),
      SETUP_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([Promise.all([ready, rules]), timeout]);
  } catch (err) {
    stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { stop };
}

/** Runs a command with `input` on stdin; rejects with what it said when it fails. */
function run(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: TOOL_PATH },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let said = "";
    child.stderr.on("data", (c: Buffer) => {
      said += c.toString();
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed (${code}): ${said.trim().slice(-500)}`)),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}
