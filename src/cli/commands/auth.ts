/**
 * `nimbus auth users|inbox|keys|audit`: the auth service, for its operator. Users go through the
 * auth API's admin routes (`auth-users.ts`); the development inbox, the keys and their rotation,
 * and the audit log through Nimbus's API (`/nimbus/v1/auth/…`, signed with the platform's key).
 */
import { Command } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, integer, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { type AuditEntry, type AuthKeys, adminApi, findUser, type InboxMail, userRef } from "./auth-admin.js";
import { authUsersCommand, shortTime } from "./auth-users.js";

export function authCommand(ctx: CliContext): Command {
  const cmd = new Command("auth")
    // Each level must stop at its subcommand for `keys rotate --endpoint …` to reach rotate.
    .enablePositionalOptions()
    .summary("users, mail, keys and audit log of the auth service")
    .description(
      "The auth service (Supabase's auth API at /auth/v1): its users, the mail it sent (the development " +
        "inbox), its keys, and its audit log.",
    );
  cmd.addCommand(authUsersCommand(ctx));

  withConnection(
    withJson(
      cmd
        .command("inbox")
        .summary("show the mail the auth service sent")
        .option("--to <address>", "only mail to this address")
        .option("--limit <n>", "at most this many mails (default 50)", integer(1, 1000)),
    ),
  )
    .description(
      "Show the development inbox, newest first: each mail's date, recipient and subject, then its text " +
        "with its link and code. Mail stays there 7 days; with SMTP configured it is sent instead. " +
        '--json prints {"mails": [...]}, as the Nimbus API answers it.',
    )
    .action(
      ctx.action(async (o: Flags<{ to?: string; limit?: number }>) => {
        const query: Record<string, string> = {};
        if (o.to) query.to = o.to;
        if (o.limit !== undefined) query.limit = String(o.limit);
        const body = await ctx
          .client(o)
          .json<{ mails: InboxMail[] }>("GET", "/nimbus/v1/auth/inbox", { query });
        if (o.json) ctx.json(body);
        else if (body.mails.length === 0) ctx.stdout.write(o.to ? `no mail to ${o.to}\n` : "no mail\n");
        else ctx.stdout.write(body.mails.map(describeMail).join("\n"));
        return 0;
      }),
    );

  const keys = withConnection(
    withJson(
      cmd
        .command("keys")
        .summary("show the issuer and the keys (keys rotate: sign with a new key)")
        // Options after `rotate` are its own, not these.
        .enablePositionalOptions(),
    ),
  )
    .description(
      "Show the token issuer; the publishable key (for apps, as Supabase's anon key); the service key " +
        "(the admin API's: keep it on servers); and the signing keys, the one signing now and those " +
        "retired whose tokens are still honoured. --json prints the Nimbus API's answer.",
    )
    .action(
      ctx.action(async (o: Flags) => {
        const body = await ctx.client(o).json<AuthKeys>("GET", "/nimbus/v1/auth/keys");
        if (o.json) ctx.json(body);
        else ctx.stdout.write(describeKeys(body));
        return 0;
      }),
    );

  withConnection(withJson(keys.command("rotate").summary("sign with a new key from now on")))
    .description(
      "Make a new signing key and sign with it from now on. The key it replaces is retired but stays " +
        'in the key set until the tokens it signed have expired. --json prints {"kid", "retired"}.',
    )
    .action(
      ctx.action(async (o: Flags) => {
        const body = await ctx
          .client(o)
          .json<{ kid: string; retired: string[] }>("POST", "/nimbus/v1/auth/keys/rotate");
        if (o.json) ctx.json(body);
        else
          ctx.stdout.write(
            `rotated the signing key: ${body.kid} signs now` +
              (body.retired.length > 0
                ? `; ${body.retired.join(", ")} is retired (its tokens are honoured until they expire)\n`
                : "\n"),
          );
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("audit")
        .summary("show the audit log")
        .option("--user <id|email>", "only this user's events")
        .option("--limit <n>", "at most this many events (default 100)", integer(1, 1000)),
    ),
  )
    .description(
      "Show security events, newest first: sign-ups, sign-ins and failures, refreshes, token reuse, " +
        'bans, deletions. --json prints {"entries": [...]}, as the Nimbus API answers it.',
    )
    .action(
      ctx.action(async (o: Flags<{ user?: string; limit?: number }>) => {
        const client = ctx.client(o);
        const query: Record<string, string> = {};
        if (o.user) {
          const ref = userRef(o.user);
          query.user = "id" in ref ? ref.id : (await findUser(await adminApi(client), o.user)).id;
        }
        if (o.limit !== undefined) query.limit = String(o.limit);
        const body = await client.json<{ entries: AuditEntry[] }>("GET", "/nimbus/v1/auth/audit", { query });
        if (o.json) ctx.json(body);
        else ctx.stdout.write(body.entries.length === 0 ? "no events\n" : auditTable(body.entries));
        return 0;
      }),
    );
  return cmd;
}

/** A mail as `inbox` prints it: its headers, a blank line, its text. */
export function describeMail(m: InboxMail): string {
  const text = m.text.endsWith("\n") ? m.text : `${m.text}\n`;
  return `Date:    ${shortTime(m.createdAt)}\nTo:      ${m.to}\nSubject: ${m.subject}\n\n${text}`;
}

export function describeKeys(k: AuthKeys): string {
  const head =
    `issuer           ${k.issuer}\n` +
    `publishable key  ${k.publishableKey}\n` +
    `service key      ${k.serviceKey}\n\n`;
  const rows = k.signingKeys.map((s) => [
    s.kid,
    s.retiredAt === null ? "signing" : "retired",
    shortTime(s.createdAt),
    shortTime(s.retiredAt),
  ]);
  return head + table(["SIGNING KEY", "STATE", "CREATED", "RETIRED"], rows);
}

export function auditTable(entries: readonly AuditEntry[]): string {
  return table(
    ["TIME", "ACTION", "USER", "IP", "DETAIL"],
    entries.map((e) => [
      shortTime(e.at),
      e.action,
      e.userId ?? "-",
      e.ip ?? "-",
      Object.keys(e.detail).length === 0 ? "" : JSON.stringify(e.detail),
    ]),
  );
}
