/**
 * A function's sandbox settings (Nimbus's own, per function): which sandbox tier its instances
 * run in, and what network they may reach beyond their Runtime API. By default an instance has
 * no network at all; `internet` opens public addresses, `allow` names other destinations (the
 * host's loopback, private ranges) one by one.
 */

export const SANDBOX_TIERS = ["jail", "gvisor", "process"] as const;
export type SandboxTier = (typeof SANDBOX_TIERS)[number];

export interface FunctionSandbox {
  /** The tier its instances run in; undefined: the platform's default. */
  readonly tier?: SandboxTier | undefined;
  /** Public (globally routable) addresses, any port. */
  readonly internet: boolean;
  /** Other destinations, as given: `CIDR` or `CIDR:port` (IPv4). */
  readonly allow: readonly string[];
}

/** Whether instances of a function with these settings have a network interface. */
export function hasNetwork(s: FunctionSandbox | undefined): boolean {
  return s !== undefined && (s.internet || s.allow.length > 0);
}

/** One allowed destination, parsed. */
export interface Destination {
  /** Network address (host bits cleared) and prefix length. */
  readonly address: string;
  readonly prefix: number;
  /** TCP and UDP port; undefined: every port. */
  readonly port: number | undefined;
}

/** The most destinations one function may list. */
export const MAX_ALLOWED_DESTINATIONS = 64;

/**
 * Parses `a.b.c.d`, `a.b.c.d/n` or either with `:port`. Throws an Error whose message says
 * what was wrong and what is expected.
 */
export function parseDestination(text: string): Destination {
  const expected =
    'expected an IPv4 address or CIDR block with an optional port, e.g. "10.0.0.5:5432" or "10.1.0.0/16"';
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw new Error(`${JSON.stringify(text)} is not a destination: ${expected}`);
  const octets = m[1]!.split(".").map(Number);
  if (octets.some((o) => o > 255))
    throw new Error(`${JSON.stringify(text)} is not an IPv4 address: ${expected}`);
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (prefix > 32) throw new Error(`${JSON.stringify(text)}: a prefix length is 0 to 32`);
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new Error(`${JSON.stringify(text)}: a port is 1 to 65535`);
  const value = octets.reduce((a, o) => a * 256 + o, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (value & mask) >>> 0;
  return { address: ipv4(network), prefix, port };
}

export function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** Whether `address/prefix` lies inside the host's loopback range (127.0.0.0/8). */
export function isLoopback(d: Destination): boolean {
  return d.prefix >= 8 && d.address.startsWith("127.");
}
