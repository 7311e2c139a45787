/**
 * `nimbus auth users ls|get|create|ban|unban|rm|sessions|signout`: the auth service's users
 * through the auth API's admin routes (Supabase's, at `/auth/v1/admin/users…`), called with
 * the service key that `GET /nimbus/v1/auth/keys` hands out. A user is named by its id or its
 * email.
 */
import { Command, InvalidArgumentError } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, integer, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { UsageError } from "../usage-error.js";
import { type AuthSession, type AuthUser, adminApi, findUser, userName, userRef } from "./auth-admin.js";

/** What a ban without --for lasts: a hundred years, Supabase's own "for good". */
export const FOREVER = "876000h";

interface CreateOptions extends Flags {
  password?: string;
  passwordStdin?: boolean;
  confirmed?: boolean;
  appMetadata?: Record<string, unknown>;
  userMetadata?: Record<string, unknown>;
}

const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;

export function authUsersCommand(ctx: CliContext): Command {
  const cmd = new Command("users")
    .alias("user")
    .summary("list, create, ban and delete users")
    .description(
      "The auth service's users, through the auth API's admin routes with the service key (fetched " +
        "from the platform first). A user is named by its id or its email.",
    );
  const admin = (o: Flags) => adminApi(ctx.client(o));

  withConnection(
    withJson(
      cmd
        .command("ls")
        .alias("list")
        .summary("list users")
        .option("--page <n>", "this page (default 1)", integer(1, 1_000_000))
        .option("--per-page <n>", "users a page (default 50)", integer(1, 1000)),
    ),
  )
    .description(
      "List users, oldest first: id, email, whether the address is confirmed, last sign-in, and a ban " +
        'in force. --json prints the admin API\'s answer, {"users": [...], "aud"}.',
    )
    .action(
      ctx.action(async (o: Flags<{ page?: number; perPage?: number }>) => {
        const page = o.page ?? 1;
        const perPage = o.perPage ?? 50;
        const { body, headers } = await (await admin(o)).call<{ users: AuthUser[] }>("GET", "/users", {
          query: { page: String(page), per_page: String(perPage) },
        });
        if (o.json) {
          ctx.json(body);
          return 0;
        }
        ctx.stdout.write(body.users.length === 0 ? "no users\n" : usersTable(body.users, Date.now()));
        const note = pageNote(page, perPage, Number(headers.get("x-total-count") ?? Number.NaN));
        if (note) ctx.stderr.write(note);
        return 0;
      }),
    );

  withConnection(withJson(cmd.command("get").summary("show a user").argument("<user>", "its id or email")))
    .description("Show a user as the admin API answers it (JSON, with or without --json).")
    .action(
      ctx.action(async (user: string, o: Flags) => {
        const api = await admin(o);
        const found = await findUser(api, user);
        // A list's users come without their factors: an email found there is read again by id.
        ctx.json(
          "email" in userRef(user) ? (await api.call<AuthUser>("GET", userPath(found.id))).body : found,
        );
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("create")
        .summary("create a user")
        .argument("<email>")
        .option("--password <password>", "its password (it can sign in with it; else by link or code)")
        .option("--password-stdin", "read the password from standard input (kept out of the shell's history)")
        .option("--confirmed", "its address counts as confirmed: no confirmation mail is needed")
        .option("--app-metadata <json>", "what only an operator sets, e.g. roles: a JSON object", jsonObject)
        .option("--user-metadata <json>", "what the user may edit: a JSON object", jsonObject),
    ),
  )
    .description("Create a user and print its id. No mail is sent. --json prints the user.")
    .addHelpText(
      "after",
      '\nExamples:\n  nimbus auth users create ada@example.com --confirmed --app-metadata \'{"roles":["admin"]}\'\n' +
        '  printf %s "$PASSWORD" | nimbus auth users create ada@example.com --password-stdin\n',
    )
    .action(
      ctx.action(async (email: string, o: CreateOptions) => {
        if (o.password !== undefined && o.passwordStdin)
          throw new UsageError("give --password or --password-stdin, not both");
        const password = o.passwordStdin ? passwordOf(await readStdin()) : o.password;
        const { body: user } = await (await admin(o)).call<AuthUser>("POST", "/users", {
          body: {
            email,
            ...(password === undefined ? {} : { password }),
            ...(o.confirmed ? { email_confirm: true } : {}),
            ...(o.appMetadata ? { app_metadata: o.appMetadata } : {}),
            ...(o.userMetadata ? { user_metadata: o.userMetadata } : {}),
          },
        });
        if (o.json) ctx.json(user);
        else ctx.stdout.write(`created the user ${userName(user)}: ${user.id}\n`);
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("ban")
        .summary("ban a user, ending its sessions")
        .argument("<user>", "its id or email")
        .option("--for <duration>", "how long: 24h, 30m, 1h30m (default: for good)", banDuration),
    ),
  )
    .description(
      "Ban a user: it cannot sign in or refresh a session until the ban ends, and its sessions end now " +
        "(access tokens already issued last until they expire). --json prints the user.",
    )
    .action(
      ctx.action(async (user: string, o: Flags<{ for?: string }>) => {
        const api = await admin(o);
        const u = await findUser(api, user);
        const { body } = await api.call<AuthUser>("PUT", userPath(u.id), {
          body: { ban_duration: o.for ?? FOREVER },
        });
        if (o.json) ctx.json(body);
        else
          ctx.stdout.write(
            `banned the user ${userName(body)} ${o.for ? `until ${body.banned_until}` : "for good"}\n`,
          );
        return 0;
      }),
    );

  withConnection(
    withJson(cmd.command("unban").summary("lift a user's ban").argument("<user>", "its id or email")),
  )
    .description("Lift a user's ban: it can sign in again. --json prints the user.")
    .action(
      ctx.action(async (user: string, o: Flags) => {
        const api = await admin(o);
        const u = await findUser(api, user);
        const { body } = await api.call<AuthUser>("PUT", userPath(u.id), { body: { ban_duration: "none" } });
        if (o.json) ctx.json(body);
        else ctx.stdout.write(`unbanned the user ${userName(body)}\n`);
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete a user, its sessions and factors")
      .argument("<user>", "its id or email"),
  ).action(
    ctx.action(async (user: string, o: Flags) => {
      const api = await admin(o);
      const u = await findUser(api, user);
      await api.call("DELETE", userPath(u.id));
      ctx.stdout.write(`deleted the user ${userName(u)}\n`);
      return 0;
    }),
  );

  withConnection(
    withJson(cmd.command("sessions").summary("list a user's sessions").argument("<user>", "its id or email")),
  )
    .description(
      "List a user's sessions, one per device it signed in on: id, opened, last refreshed, assurance " +
        "level (aal2 after MFA), address and user agent. --json prints the admin API's answer (an array).",
    )
    .action(
      ctx.action(async (user: string, o: Flags) => {
        const api = await admin(o);
        const u = await findUser(api, user);
        const { body } = await api.call<AuthSession[]>("GET", `${userPath(u.id)}/sessions`);
        if (o.json) ctx.json(body);
        else ctx.stdout.write(body.length === 0 ? `${userName(u)} has no sessions\n` : sessionsTable(body));
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("signout")
        .summary("end a user's sessions")
        .argument("<user>", "its id or email")
        .option("--session <id>", "only this session (default: every one)"),
    ),
  )
    .description(
      "End a user's sessions (or one, --session): their refresh tokens stop working at once; access " +
        'tokens already issued last until they expire. --json prints {"revoked": N}.',
    )
    .action(
      ctx.action(async (user: string, o: Flags<{ session?: string }>) => {
        const api = await admin(o);
        const u = await findUser(api, user);
        const path = `${userPath(u.id)}/sessions${o.session ? `/${encodeURIComponent(o.session)}` : ""}`;
        const { body } = await api.call<{ revoked: number }>("DELETE", path);
        if (o.json) ctx.json(body);
        else
          ctx.stdout.write(
            `signed out the user ${userName(u)}: ${body.revoked} session${body.revoked === 1 ? "" : "s"} ended\n`,
          );
        return 0;
      }),
    );
  return cmd;
}

/** An ISO time as the tables show it, to the second; `-` for none. */
export const shortTime = (iso: string | undefined | null): string =>
  iso ? `${iso.slice(0, 19).replace("T", " ")}Z` : "-";

/** Users as `users ls` shows them; a ban that has ended shows as none. */
export function usersTable(users: readonly AuthUser[], now: number): string {
  return table(
    ["ID", "EMAIL", "CONFIRMED", "LAST SIGN-IN", "BANNED"],
    users.map((u) => [
      u.id,
      u.email === "" ? "(anonymous)" : u.email,
      u.email_confirmed_at ? "yes" : "no",
      shortTime(u.last_sign_in_at),
      u.banned_until && Date.parse(u.banned_until) > now ? `until ${shortTime(u.banned_until)}` : "no",
    ]),
  );
}

export function sessionsTable(sessions: readonly AuthSession[]): string {
  return table(
    ["ID", "OPENED", "REFRESHED", "AAL", "IP", "USER AGENT"],
    sessions.map((s) => [
      s.id,
      shortTime(s.created_at),
      shortTime(s.refreshed_at),
      s.aal,
      s.ip ?? "-",
      s.user_agent ?? "-",
    ]),
  );
}

/** The line after a page of users when more follow; "" when this is the last (or the total is unknown). */
export function pageNote(page: number, perPage: number, total: number): string {
  if (!Number.isFinite(total) || page * perPage >= total) return "";
  const pages = Math.ceil(total / perPage);
  return `page ${page} of ${pages} (${total} users): --page ${page + 1} for the next\n`;
}

/**
 * A ban's length as the admin API takes it, a Go duration: whole or decimal hours, minutes and
 * seconds (`24h`, `30m`, `1h30m`, `1.5h`), more than zero.
 */
export function banDuration(v: string): string {
  const s = v.trim();
  if (!/^(\d+(\.\d+)?[hms])+$/.test(s))
    throw new InvalidArgumentError("expected a duration like 24h, 30m or 1h30m");
  if (!/[1-9]/.test(s))
    throw new InvalidArgumentError("expected a duration longer than zero (unban lifts a ban)");
  return s;
}

/** A JSON object option (metadata). */
export function jsonObject(v: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('expected a JSON object like {"plan":"pro"}');
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new InvalidArgumentError('expected a JSON object like {"plan":"pro"}');
  return parsed as Record<string, unknown>;
}

/** The password read from standard input: its one trailing newline dropped (echo adds it). */
export function passwordOf(input: string): string {
  const password = input.replace(/\r?\n$/, "");
  if (password === "") throw new UsageError("--password-stdin read no password from standard input");
  return password;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError('--password-stdin reads a pipe: printf %s "$PASSWORD" | nimbus …');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
