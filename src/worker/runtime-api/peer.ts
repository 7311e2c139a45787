/**
 * Who is on the other end of a loopback TCP connection. Every instance's Runtime API listens
 * on a loopback port any local process can reach; when each sandbox runs as its own uid, the
 * kernel's socket table tells which uid opened the connecting socket, so an instance can
 * refuse every process but its own runtime.
 */
import { readFileSync } from "node:fs";

/** Loopback 127.0.0.1 in /proc/net/tcp's little-endian hex. */
const LOOPBACK_HEX = "0100007F";

/**
 * The uid owning the socket at 127.0.0.1:`peerPort` connected to 127.0.0.1:`localPort`, or
 * undefined when the kernel's table does not list it (gone, or not a loopback IPv4 peer).
 */
export function loopbackPeerUid(
  localPort: number,
  peerPort: number,
  table = readTcpTable(),
): number | undefined {
  const local = `${LOOPBACK_HEX}:${hexPort(peerPort)}`;
  const remote = `${LOOPBACK_HEX}:${hexPort(localPort)}`;
  for (const line of table.split("\n")) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[2] === remote) {
      const uid = Number(f[7]);
      return Number.isInteger(uid) ? uid : undefined;
    }
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, "0");
}

function readTcpTable(): string {
  try {
    return readFileSync("/proc/net/tcp", "latin1");
  } catch {
    return "";
  }
}

/**
 * A token bucket of peer lookups: `perSecond` on average, `burst` at once. Each lookup renders
 * and scans the host's TCP table on the event loop (~1 ms with thousands of sockets).
 */
export class LookupBudget {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(perSecond = 200, burst = 50, now: () => number = () => performance.now()) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#at = now();
  }

  /** Whether a lookup may run now (and counts it). */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#perSecond) / 1000);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
