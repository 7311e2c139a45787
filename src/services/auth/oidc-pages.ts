/**
 * The OpenID Connect provider's pages: the sign-in form, the consent form and the error page.
 * Plain HTML with one inline style sheet, no scripts and no external assets; every value is
 * escaped. The forms post back to `authorize` (relative, so they work behind any host name),
 * carrying the sealed request or consent (`oidc.ts`) and nothing else the user did not type.
 */
import { createHash } from "node:crypto";
import { escapeHtml } from "./html.js";

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1c1e21}
main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 .5rem}label{display:block;margin-top:1rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.5rem;margin-top:.25rem;font:inherit;border:1px solid #888;border-radius:4px}
button{margin-top:1.5rem;margin-right:.5rem;padding:.5rem 1.25rem;font:inherit;border-radius:4px;border:1px solid #1a56db;background:#1a56db;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1a56db}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.error{padding:.75rem;border-radius:4px;background:#fdecea;color:#8a1c1c}.note{font-size:.9rem;color:#555}`;

/** The headers every page is sent with: no caching, no framing (clickjacking), nothing loaded but the style above. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; frame-ancestors 'none'; base-uri 'none'`,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** What each scope lets an app see, as the consent page lists it. */
const SCOPE_TEXT: Record<string, string> = {
  openid: "Know who you are (your account ID)",
  email: "See your email address",
  profile: "See your profile: name, picture, locale",
};

export function signInPage(o: {
  appName: string;
  client: string;
  pending: string;
  email: string;
  message: string | undefined;
}): string {
  const failed = o.message !== undefined;
  const invalid = failed ? ' aria-invalid="true" aria-describedby="error"' : "";
  return layout(
    `Sign in · ${o.appName}`,
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(o.client)}</strong> with your ${escapeHtml(o.appName)} account</p>
${failed ? `<p class="error" id="error" role="alert">${escapeHtml(o.message ?? "")}</p>` : ""}
<form method="post" action="authorize">
<input type="hidden" name="pending" value="${escapeHtml(o.pending)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(o.email)}"${invalid}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function mfaPage(o: {
  appName: string;
  client: string;
  mfa: string;
  message: string | undefined;
}): string {
  const failed = o.message !== undefined;
  const invalid = failed ? ' aria-invalid="true" aria-describedby="error"' : "";
  return layout(
    `Two-step verification · ${o.appName}`,
    `<h1>Two-step verification</h1>
<p>Enter the code from your authenticator app to continue to <strong>${escapeHtml(o.client)}</strong>, or one of your recovery codes.</p>
${failed ? `<p class="error" id="error" role="alert">${escapeHtml(o.message ?? "")}</p>` : ""}
<form method="post" action="authorize">
<input type="hidden" name="mfa" value="${escapeHtml(o.mfa)}">
<label for="code">Code</label>
<input id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required${invalid}>
<button type="submit">Verify</button>
</form>`,
  );
}

export function consentPage(o: {
  appName: string;
  client: string;
  redirectHost: string;
  email: string;
  scopes: readonly string[];
  consent: string;
}): string {
  const client = escapeHtml(o.client);
  const items = o.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join("\n");
  return layout(
    `Allow ${o.client}? · ${o.appName}`,
    `<h1>Allow ${client} to use your account?</h1>
<p>You are signed in as <strong>${escapeHtml(o.email)}</strong>.</p>
<p id="scopes">${client} will be able to:</p>
<ul aria-labelledby="scopes">
${items}
</ul>
<form method="post" action="authorize">
<input type="hidden" name="consent" value="${escapeHtml(o.consent)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
<p class="note">${client} is not part of ${escapeHtml(o.appName)}. Either way you go back to ${escapeHtml(o.redirectHost)}.</p>`,
  );
}

export function errorPage(o: { appName: string; title: string; message: string }): string {
  return layout(
    `${o.title} · ${o.appName}`,
    `<h1>${escapeHtml(o.title)}</h1>\n<p>${escapeHtml(o.message)}</p>`,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
