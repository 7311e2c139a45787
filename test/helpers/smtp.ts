/**
 * A real SMTP server on 127.0.0.1 for tests (`smtp-server`, nodemailer's sibling): it offers
 * STARTTLS with its built-in self-signed certificate, takes a login when told one, and keeps
 * every mail it accepts, its headers and text decoded.
 */
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface ReceivedMail {
  /** The envelope: `MAIL FROM` and `RCPT TO`. */
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  /** The login the client gave, when it gave one. */
  readonly user: string | undefined;
  /** Whether the mail came over TLS (STARTTLS). */
  readonly secure: boolean;
  /** Header names lower-cased; folded lines joined. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every part's content, decoded from quoted-printable or base64, one after another. */
  readonly body: string;
}

export interface TestSmtpServer {
  readonly port: number;
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpServer(
  o: {
    /** The only login accepted; without it, the server asks for none. */
    login?: { user: string; pass: string };
    /** The answer refusing a recipient (`5.1.1 no such mailbox`, sent as 550), or undefined to take it. */
    refuse?: (recipient: string) => string | undefined;
  } = {},
): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  const options: SMTPServerOptions = {
    logger: false,
    authOptional: o.login === undefined,
    onAuth(auth, _session, callback) {
      if (o.login && auth.username === o.login.user && auth.password === o.login.pass)
        return callback(null, { user: auth.username });
      return callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      const refusal = o.refuse?.(address.address);
      if (refusal === undefined) return callback();
      return callback(Object.assign(new Error(refusal), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const mailFrom = session.envelope.mailFrom;
        mails.push({
          mailFrom: mailFrom === false ? "" : mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === "string" ? session.user : undefined,
          secure: session.secure,
          ...parse(Buffer.concat(chunks).toString("utf8")),
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("the SMTP server has no port");
  return {
    port: address.port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Headers and the decoded text of every part: enough to read what auth sends, not a MIME parser. */
function parse(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const parts = raw.slice(split + 4).split(/\r\n--[^\r\n]+\r\n/);
  const body = parts
    .map((part) => {
      const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(part)?.[1]?.toLowerCase();
      const content =
        part.includes("\r\n\r\n") && /^[\w-]+:/.test(part) ? part.slice(part.indexOf("\r\n\r\n") + 4) : part;
      if (encoding === "base64") return Buffer.from(content.replace(/\s+/g, ""), "base64").toString("utf8");
      if (encoding === "quoted-printable")
        return Buffer.from(
          content
            .replace(/=\r\n/g, "")
            .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
          "latin1",
        ).toString("utf8");
      return content;
    })
    .join("\n");
  return { headers, body };
}
