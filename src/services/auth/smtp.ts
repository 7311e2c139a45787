/**
 * Auth's mail over SMTP, used instead of the development inbox when `authSmtpUrl` is set. The
 * URL is nodemailer's: `smtp://` starts in plain text and upgrades with STARTTLS when the
 * server offers it, `smtps://` speaks TLS from the start, the user and password (percent-
 * encoded) log in, and query parameters set other options (`?requireTLS=true`,
 * `?tls.rejectUnauthorized=false`, `?connectionTimeout=…`). Each mail opens its own connection.
 * nodemailer is loaded with the first mail, not at start (~60 ms, for a platform that may never mail).
 */
import type { Transporter } from "nodemailer";
import type { MailTransport } from "./mail.js";

/**
 * A client's request waits for its mail to be handed over, so a slow server must not hold it
 * for nodemailer's defaults (2 minutes to connect, 10 of silence); the URL may set other values.
 */
export const SMTP_CONNECTION_TIMEOUT_MS = 10_000;
export const SMTP_GREETING_TIMEOUT_MS = 10_000;
export const SMTP_SOCKET_TIMEOUT_MS = 30_000;

/** The longest server answer quoted back to a client. */
const MAX_REASON_CHARS = 200;

export interface SmtpTransport {
  readonly send: MailTransport;
  /** `SMTP host:port`, for the start-up banner and logs: never the user or password. */
  readonly describe: string;
}

/** A transport to the SMTP server `url` names (`smtp://user:password@host:587`, `smtps://…:465`). */
export function smtpTransport(url: string): SmtpTransport {
  let mailer: Promise<Transporter> | undefined;
  const open = () =>
    (mailer ??= import("nodemailer").then(({ createTransport }) =>
      // Options the URL's query sets win over these.
      createTransport({
        url,
        connectionTimeout: SMTP_CONNECTION_TIMEOUT_MS,
        greetingTimeout: SMTP_GREETING_TIMEOUT_MS,
        socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
      }),
    ));
  const u = new URL(url);
  // nodemailer's defaults: 465 for TLS from the start, else the submission port.
  const port = u.port || (u.protocol === "smtps:" ? "465" : "587");
  return {
    describe: `SMTP ${u.hostname.toLowerCase()}:${port}`,
    async send(from, mail) {
      try {
        const transporter = await open();
        await transporter.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
        });
      } catch (err) {
        throw new Error(reasonOf(err), { cause: err });
      }
    },
  };
}

/** What went wrong, in words a client may see: the server's refusal, but never its address or our login. */
export function reasonOf(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; response?: unknown };
  const response =
    typeof e.response === "string"
      ? e.response.replace(/\s+/g, " ").trim().slice(0, MAX_REASON_CHARS)
      : undefined;
  switch (e.code) {
    case "EENVELOPE":
    case "EMESSAGE":
      return `the mail server refused it${response ? ` (${response})` : ""}`;
    case "EAUTH":
    case "ENOAUTH":
      return "the mail server refused the platform's login";
    case "ETIMEDOUT":
      return "the mail server did not answer in time";
    case "ETLS":
    case "EREQUIRETLS":
      return "TLS with the mail server failed";
    case "ECONNECTION":
    case "ESOCKET":
    case "EDNS":
    case "EPROXY":
      return "the mail server could not be reached";
    default:
      return response
        ? `the mail server answered ${response}`
        : "the mail could not be handed to the mail server";
  }
}
