/**
 * The auth service wired into the platform: its settings from the platform's config, its
 * blocking hooks as synchronous invocations, its events on the default bus (`nimbus.auth`),
 * its mail through SMTP when a server is set (else the development inbox), CAPTCHA when a
 * verify URL is set, and its keys derived from the platform's secret.
 */
import type { InvokeService } from "../control/invoke-service.js";
import type { Credentials } from "../gateway/auth/principal.js";
import { AuthService } from "../services/auth/auth.js";
import { siteverify } from "../services/auth/captcha.js";
import { defaultAuthSettings } from "../services/auth/config.js";
import { createHooks, type HookTarget } from "../services/auth/hooks.js";
import { createMailer } from "../services/auth/mail.js";
import {
  type AuthRateAction,
  DEFAULT_AUTH_LIMITS,
  type RateDecision,
  RateLimiter,
} from "../services/auth/rate-limits.js";
import type { AuthRepo } from "../services/auth/repo.js";
import { smtpTransport } from "../services/auth/smtp.js";
import type { EventBus } from "../services/events/events.js";
import type { Clock } from "../shared/clock.js";
import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import type { Lifecycle } from "./lifecycle.js";

/** Builds the auth service from the platform's parts and adds it to the lifecycle. */
export async function wireAuth(
  life: Lifecycle,
  d: {
    repos: { readonly auth: AuthRepo };
    clock: Clock;
    config: Config;
    credentials: Credentials;
    /** The platform's URL once it listens. */
    url: () => string;
    invoke: Pick<InvokeService, "invoke">;
    events: Pick<EventBus, "publish">;
    logger: Logger;
  },
): Promise<AuthService> {
  const repo = d.repos.auth;
  const c = d.config;
  const issuer = () => (c.authIssuer === "" ? `${d.url()}/auth/v1` : c.authIssuer.replace(/\/+$/, ""));
  const hook = (fn: string): HookTarget | undefined =>
    fn === "" ? undefined : { functionName: fn, timeoutMs: c.authHookTimeoutMs };
  const hooks = createHooks(
    {
      beforeUserCreated: hook(c.authHookBeforeUserCreated),
      customAccessToken: hook(c.authHookCustomAccessToken),
    },
    async (target, payload) => {
      const [functionName, qualifier] = target.functionName.split(":");
      const out = await d.invoke.invoke({
        functionName: functionName ?? target.functionName,
        qualifier,
        payload: Buffer.from(JSON.stringify(payload)),
        clientContextBase64: undefined,
        dryRun: false,
        traceId: undefined,
      });
      if (out.functionError !== undefined)
        throw new Error(`it failed: ${out.payload.toString("utf8").slice(0, 500)}`);
      return JSON.parse(out.payload.toString("utf8")) as unknown;
    },
  );
  const limits = { clock: d.clock, rules: DEFAULT_AUTH_LIMITS };
  const service = new AuthService({
    repo,
    clock: d.clock,
    settings: {
      ...defaultAuthSettings(issuer),
      accessTokenTtlSeconds: c.authTokenTtlSeconds,
      confirmEmail: c.authConfirmEmail,
      allowSignup: c.authAllowSignup,
      allowAnonymous: c.authAllowAnonymous,
      siteUrl: c.authSiteUrl,
      mailFrom: c.authMailFrom,
      redirectUrls: c.authRedirectUrls.split(",").filter((u) => u !== ""),
    },
    mailer: createMailer({
      repo,
      clock: d.clock,
      from: c.authMailFrom,
      ...(c.authSmtpUrl === "" ? {} : { transport: smtpTransport(c.authSmtpUrl) }),
      log: (message, fields) => d.logger.error(message, fields),
    }),
    limits: c.authRateLimits === "off" ? new NoRateLimits(limits) : new RateLimiter(limits),
    hooks,
    captcha:
      c.authCaptchaVerifyUrl === ""
        ? undefined
        : siteverify({
            url: c.authCaptchaVerifyUrl,
            secret: c.authCaptchaSecret,
            timeoutMs: c.authCaptchaTimeoutMs,
            log: (message, fields) => d.logger.warn(message, fields),
          }),
    publish: (event) =>
      void d.events
        .publish("nimbus.auth", event.detailType, event.detail)
        .catch((err: unknown) => d.logger.error("a platform event could not be published", { err })),
    log: (message, fields) => d.logger.warn(message, fields),
    platformSecret: d.credentials.secretAccessKey,
  });
  await life.add({ name: "auth", start: () => service.start(), stop: () => service.stop() });
  return service;
}

/** `authRateLimits: "off"`: a limiter that never refuses, for benchmarks and trusted networks. */
class NoRateLimits extends RateLimiter<AuthRateAction> {
  override take(): RateDecision {
    return { ok: true };
  }
}
