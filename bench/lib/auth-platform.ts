/**
 * The auth figures' platform and users: a platform of their own with the auth service's rate
 * limits off (`authRateLimits: "off"`: the bench signs in and refreshes from one address far
 * above the limits a client gets), users made with the admin API and the service key, and the
 * two token grants as an app calls them (`POST /auth/v1/token?grant_type=…`), unsigned, over
 * the bench's keep-alive client; and password sign-ins sent at a steady rate.
 */
import type http from "node:http";
import { NimbusClient } from "../../src/cli/client.js";
import type { BenchContext } from "./context.js";
import { Control, REGION } from "./functions.js";
import { type Headers, keepAliveAgent, type Reply, Signer, send } from "./http-client.js";
import { PlatformProcess } from "./platform.js";

export const AUTH_PASSWORD = "bench: correct horse battery staple";
export const TOKEN_PATH = "/auth/v1/token";

export interface AuthPlatform {
  readonly platform: PlatformProcess;
  readonly base: URL;
  readonly control: Control;
  readonly signer: Signer;
  /** The platform's token issuer (`<url>/auth/v1`), as a JWT authorizer names it. */
  readonly issuer: string;
  readonly serviceKey: string;
}

/** The driver of the figure's context, no pool, limits off; `settings` over those. */
export async function startAuthPlatform(
  ctx: BenchContext,
  settings: Record<string, unknown> = {},
): Promise<AuthPlatform> {
  const platform = await PlatformProcess.start({
    settings: { poolSize: 0, sandbox: ctx.sandbox, authRateLimits: "off", ...settings },
    ...(ctx.cpuProfileDir !== undefined ? { cpuProfileDir: ctx.cpuProfileDir } : {}),
  });
  try {
    const client = new NimbusClient({ endpoint: platform.url, ...platform.credentials, region: REGION });
    const keys = (await (await client.call("GET", "/nimbus/v1/auth/keys")).json()) as {
      issuer: string;
      serviceKey: string;
    };
    return {
      platform,
      base: new URL(platform.url),
      control: new Control(platform.url, platform.credentials),
      signer: new Signer(platform.credentials),
      issuer: keys.issuer,
      serviceKey: keys.serviceKey,
    };
  } catch (err) {
    await platform.close();
    throw err;
  }
}

/** A JSON POST's headers and body. */
export function jsonPost(value: unknown, extra: Headers = {}): { headers: Headers; body: Buffer } {
  const body = Buffer.from(JSON.stringify(value));
  return {
    headers: { "content-type": "application/json", "content-length": String(body.length), ...extra },
    body,
  };
}

/** `count` confirmed users with the bench's password, made with the admin API; their emails. */
export async function createUsers(
  p: AuthPlatform,
  agent: http.Agent,
  prefix: string,
  count: number,
): Promise<string[]> {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}-${i}@bench.example.com`);
  for (const email of emails) {
    const { headers, body } = jsonPost(
      { email, password: AUTH_PASSWORD, email_confirm: true },
      { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` },
    );
    expect200(await send(agent, p.base, "/auth/v1/admin/users", headers, body), `creating user ${email}`);
  }
  return emails;
}

export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** Reads a token grant's answer; undefined unless it is a 200 with both tokens. */
export function sessionOf(reply: Reply): Session | undefined {
  if (reply.status !== 200) return undefined;
  const s = JSON.parse(reply.body.toString("utf8")) as { access_token?: unknown; refresh_token?: unknown };
  if (typeof s.access_token !== "string" || typeof s.refresh_token !== "string") return undefined;
  return { accessToken: s.access_token, refreshToken: s.refresh_token };
}

/** `grant_type=password`: the answer as it came (its status, its session). */
export function signIn(agent: http.Agent, base: URL, email: string): Promise<Reply> {
  const { headers, body } = jsonPost({ email, password: AUTH_PASSWORD });
  return send(agent, base, `${TOKEN_PATH}?grant_type=password`, headers, body);
}

/** `grant_type=refresh_token`: spends `refreshToken` for the next pair. */
export function refresh(agent: http.Agent, base: URL, refreshToken: string): Promise<Reply> {
  const { headers, body } = jsonPost({ refresh_token: refreshToken });
  return send(agent, base, `${TOKEN_PATH}?grant_type=refresh_token`, headers, body);
}

/** A sign-in that must succeed; its session. */
export async function signedIn(agent: http.Agent, base: URL, email: string): Promise<Session> {
  const reply = await signIn(agent, base, email);
  const session = sessionOf(reply);
  if (session === undefined)
    throw new Error(`signing in ${email}: HTTP ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`);
  return session;
}

export function expect200(reply: Reply, what: string): void {
  if (reply.status !== 200)
    throw new Error(`${what}: HTTP ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`);
}

/** Password sign-ins sent at a steady rate (open loop: one every 1/rate s, whether or not earlier ones answered). */
export function signInsAt(base: URL, emails: readonly string[], perSecond: number) {
  const agent = keepAliveAgent(64);
  const intervalMs = 1000 / perSecond;
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    const email = emails[sent % emails.length]!;
    sent++;
    const t0 = performance.now();
    const done: Promise<void> = signIn(agent, base, email)
      .then(
        (reply) => {
          if (sessionOf(reply)) latencies.push(performance.now() - t0);
          else failed++;
        },
        () => void failed++,
      )
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
    timer = setTimeout(fire, Math.max(0, started + sent * intervalMs - performance.now()));
  };
  fire();
  return {
    /** Stops sending, waits for the answers. */
    async stop() {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      await Promise.all(inFlight);
      agent.destroy();
      return { sent, failed, latencies, perSecond: sent / seconds };
    },
  };
}
