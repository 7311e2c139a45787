import assert from "node:assert/strict";
import { test } from "node:test";
import { isRedirectUri } from "./oidc.js";

test("a redirect URI is absolute https, or http only on a loopback or .localhost host", () => {
  for (const ok of [
    "https://app.example.com/callback",
    "https://app.example.com/cb?tenant=1",
    "http://localhost:3000/cb",
    "http://127.0.0.1:8080/cb",
    "http://[::1]/cb",
    "http://app.localhost:3000/cb",
  ])
    assert.ok(isRedirectUri(ok), ok);
  for (const bad of [
    "http://app.example.com/cb",
    "http://localhost.example.com/cb",
    "http://127.0.0.2/cb",
    "https://app.example.com/cb#fragment",
    "https://app.example.com/cb#",
    "https://user:pass@app.example.com/cb",
    "/relative/cb",
    "javascript:alert(1)",
    "myapp://callback",
    `https://app.example.com/${"x".repeat(2000)}`,
  ])
    assert.ok(!isRedirectUri(bad), bad);
});
