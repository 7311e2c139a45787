import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { consentPage, errorPage, PAGE_HEADERS, signInPage } from "./oidc-pages.js";

const HOSTILE = `"><script>alert('x')</script>&`;

test("every value a page shows is escaped, in text and in attributes", () => {
  const pages = [
    signInPage({ appName: HOSTILE, client: HOSTILE, pending: HOSTILE, email: HOSTILE, message: HOSTILE }),
    consentPage({
      appName: HOSTILE,
      client: HOSTILE,
      redirectHost: HOSTILE,
      email: HOSTILE,
      scopes: [HOSTILE],
      consent: HOSTILE,
    }),
    errorPage({ appName: HOSTILE, title: HOSTILE, message: HOSTILE }),
  ];
  for (const html of pages) {
    assert.doesNotMatch(html, /<script/);
    assert.doesNotMatch(html, /"><|'x'/);
    assert.match(html, /&#34;&#62;&#60;script&#62;alert\(&#39;x&#39;\)&#60;\/script&#62;&#38;/);
  }
});

test("the content security policy allows the page's one style sheet and nothing else", () => {
  const html = errorPage({ appName: "Nimbus", title: "t", message: "m" });
  const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? "";
  const hash = createHash("sha256").update(style).digest("base64");
  assert.equal(
    PAGE_HEADERS["content-security-policy"],
    `default-src 'none'; style-src 'sha256-${hash}'; frame-ancestors 'none'; base-uri 'none'`,
  );
  assert.doesNotMatch(html, /<script|<link|src=/);
});

test("a refused sign-in marks both fields invalid and announces the message", () => {
  const html = signInPage({
    appName: "Nimbus",
    client: "App",
    pending: "p",
    email: "a@b.c",
    message: "Incorrect email or password.",
  });
  assert.match(html, /<p class="error" id="error" role="alert">Incorrect email or password\.<\/p>/);
  assert.equal(html.match(/aria-invalid="true" aria-describedby="error"/g)?.length, 2);
  assert.match(html, /value="a@b\.c"/);
  const fresh = signInPage({ appName: "Nimbus", client: "App", pending: "p", email: "", message: undefined });
  assert.doesNotMatch(fresh, /role="alert"|aria-invalid/);
});
