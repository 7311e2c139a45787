/** Auth end to end: a Supabase auth client against a test platform, and its development inbox. */
import { createHmac } from "node:crypto";
import { GoTrueClient } from "@supabase/auth-js";
import { NimbusClient } from "../../src/cli/client.js";
import type { TestPlatform } from "./platform.js";

/** `@supabase/auth-js` as an app uses it, its session kept in memory, nothing running in the background. */
export function authClient(t: TestPlatform, headers: Record<string, string> = {}): GoTrueClient {
  const store = new Map<string, string>();
  return new GoTrueClient({
    url: `${t.url}/auth/v1`,
    headers,
    autoRefreshToken: false,
    persistSession: true,
    detectSessionInUrl: false,
    storage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    },
  });
}

/** Nimbus's API, signed as of `now` (the platform's clock, which a test may have moved). */
export function nimbusClient(t: TestPlatform, now: () => number = Date.now): NimbusClient {
  return new NimbusClient({ endpoint: t.url, ...t.platform.credentials, region: "us-east-1", now });
}

export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly kind: string;
}

/** The newest mails to `to` in the platform's development inbox. */
export async function inbox(t: TestPlatform, to: string, now?: () => number): Promise<Mail[]> {
  const res = await nimbusClient(t, now).call("GET", "/nimbus/v1/auth/inbox", { query: { to } });
  if (!res.ok) throw new Error(`inbox: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { mails: Mail[] }).mails;
}

/** The link and the 6-digit code of the newest mail to `to`. */
export async function lastMail(
  t: TestPlatform,
  to: string,
  now?: () => number,
): Promise<{ mail: Mail; link: string; code: string }> {
  const [mail] = await inbox(t, to, now);
  if (mail === undefined) throw new Error(`no mail to ${to}`);
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
  const code = /code: (\d{6})/.exec(mail.text)?.[1];
  if (link === undefined || code === undefined) throw new Error(`no link or code in: ${mail.text}`);
  return { mail, link, code };
}

/** The platform's publishable and service keys, as `nimbus auth keys` shows them. */
export async function authKeys(
  t: TestPlatform,
  now?: () => number,
): Promise<{ issuer: string; publishableKey: string; serviceKey: string }> {
  const res = await nimbusClient(t, now).call("GET", "/nimbus/v1/auth/keys");
  if (!res.ok) throw new Error(`keys: ${res.status} ${await res.text()}`);
  return (await res.json()) as { issuer: string; publishableKey: string; serviceKey: string };
}

/**
 * RFC 6238's TOTP (SHA-1, 6 digits, 30 s), written here from the RFC rather than taken from the
 * platform, so the test checks the platform against the standard and not against itself.
 */
export function totp(base32Secret: string, atMs: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of base32Secret.replace(/=+$/, "")) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}
