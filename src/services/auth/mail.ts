/**
 * The mail auth sends: confirmations, magic links with their codes, password resets, email
 * changes, invitations. Every mail goes to the development inbox (the store's `mail` table,
 * readable through `GET /nimbus/v1/auth/inbox` and `nimbus auth inbox`) unless a transport is
 * configured (SMTP), which then sends it instead.
 */
import type { Clock } from "../../shared/clock.js";
import { newId } from "./context.js";
import { AuthError } from "./errors.js";
import { escapeHtml } from "./html.js";
import type { MailRecord } from "./model.js";
import type { AuthRepo } from "./repo.js";

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly kind: string;
}

/**
 * Sends one mail; throws when the server refuses it, with a message fit for the client (no
 * host, no credentials) and the full failure as the error's `cause`.
 */
export type MailTransport = (from: string, mail: OutgoingMail) => Promise<void>;

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  /** Where mail goes, for the start-up banner: `development inbox` or `SMTP host:port`. */
  readonly describe: string;
}

/** What each kind of mail is called in the error when it cannot be sent (Supabase's words). */
const MAIL_NOUNS: Record<string, string> = {
  signup: "confirmation",
  // The same words as a first sign-up's: the answer must not tell that the address has an account.
  signup_existing: "confirmation",
  magiclink: "magic link",
  recovery: "recovery",
  email_change: "email change",
  invite: "invite",
};

/** Days a development inbox keeps a mail. */
export const INBOX_RETENTION_MS = 7 * 24 * 3600 * 1000;

export function createMailer(o: {
  repo: Pick<AuthRepo, "putMail">;
  clock: Clock;
  from: string;
  transport?: { send: MailTransport; describe: string };
  /** Where a transport's failures are logged in full. */
  log?: (message: string, fields: Record<string, unknown>) => void;
}): Mailer {
  if (o.transport) {
    const t = o.transport;
    return {
      describe: t.describe,
      async send(mail) {
        try {
          await t.send(o.from, mail);
        } catch (err) {
          // Supabase's answer ("Error sending magic link email"), with the reason; the log gets the rest.
          const reason = err instanceof Error ? err.message : String(err);
          o.log?.("auth mail could not be sent", {
            kind: mail.kind,
            via: t.describe,
            err: String((err instanceof Error ? err.cause : undefined) ?? err),
          });
          throw new AuthError(
            "unexpected_failure",
            500,
            `Error sending ${MAIL_NOUNS[mail.kind] ?? mail.kind} email: ${reason}`,
          );
        }
      },
    };
  }
  return {
    describe: "development inbox (nimbus auth inbox)",
    async send(mail) {
      const record: MailRecord = { id: newId(), ...mail, createdAt: o.clock.now() };
      await o.repo.putMail(record);
    },
  };
}

/** A mail with one link and, when given, a code to type instead. */
export function linkMail(o: {
  to: string;
  kind: string;
  subject: string;
  lead: string;
  action: string;
  link: string;
  code?: string;
  appName: string;
}): OutgoingMail {
  const codeText = o.code === undefined ? "" : `\n\nOr enter this code: ${o.code}`;
  const codeHtml =
    o.code === undefined ? "" : `<p>Or enter this code: <strong>${escapeHtml(o.code)}</strong></p>`;
  return {
    to: o.to,
    kind: o.kind,
    subject: o.subject,
    text: `${o.lead}\n\n${o.action}: ${o.link}${codeText}\n\n${o.appName}`,
    html: `<p>${escapeHtml(o.lead)}</p><p><a href="${escapeHtml(o.link)}">${escapeHtml(o.action)}</a></p>${codeHtml}<p>${escapeHtml(o.appName)}</p>`,
  };
}
