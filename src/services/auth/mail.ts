/**
 * The mail auth sends: confirmations, magic links with their codes, password resets, email
 * changes, invitations. Every mail goes to the development inbox (the store's `mail` table,
 * readable through `GET /nimbus/v1/auth/inbox` and `nimbus auth inbox`) unless a transport is
 * configured (SMTP), which then sends it instead.
 */
import type { Clock } from "../../shared/clock.js";
import { newId } from "./context.js";
import type { MailRecord } from "./model.js";
import type { AuthRepo } from "./repo.js";

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly kind: string;
}

/** Sends one mail; throws when the server refuses it. */
export type MailTransport = (from: string, mail: OutgoingMail) => Promise<void>;

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  /** Where mail goes, for the start-up banner: `development inbox` or `SMTP host:port`. */
  readonly describe: string;
}

/** Days a development inbox keeps a mail. */
export const INBOX_RETENTION_MS = 7 * 24 * 3600 * 1000;

export function createMailer(o: {
  repo: Pick<AuthRepo, "putMail">;
  clock: Clock;
  from: string;
  transport?: { send: MailTransport; describe: string };
}): Mailer {
  if (o.transport) {
    const t = o.transport;
    return { send: (mail) => t.send(o.from, mail), describe: t.describe };
  }
  return {
    describe: "development inbox (nimbus auth inbox)",
    async send(mail) {
      const record: MailRecord = { id: newId(), ...mail, createdAt: o.clock.now() };
      await o.repo.putMail(record);
    },
  };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

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
