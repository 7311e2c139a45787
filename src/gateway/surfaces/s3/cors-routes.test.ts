import assert from "node:assert/strict";
import { test } from "node:test";
import type { S3Error } from "../../../services/storage/errors.js";
import {
  type CorsConfiguration,
  type CorsRule,
  corsHeadersOf,
  corsXml,
  matchRule,
  parseCorsXml,
  requestedHeaders,
  wildcardMatches,
} from "./cors-routes.js";

const xml = (body: string) =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</CORSConfiguration>`,
  );
const rule = (inner: string) => `<CORSRule>${inner}</CORSRule>`;

const APP: CorsRule = {
  ID: "app",
  AllowedOrigins: ["https://app.example.com", "http://localhost:*"],
  AllowedMethods: ["GET", "PUT"],
  AllowedHeaders: ["content-type", "x-amz-*"],
  ExposeHeaders: ["ETag"],
  MaxAgeSeconds: 600,
};
const ANYONE_READS: CorsRule = {
  AllowedOrigins: ["*"],
  AllowedMethods: ["GET", "HEAD"],
  AllowedHeaders: [],
  ExposeHeaders: [],
};
const CONFIG: CorsConfiguration = { CORSRules: [APP, ANYONE_READS] };

function failure(body: string): { code: string; message: string } {
  try {
    parseCorsXml(xml(body));
  } catch (err) {
    return { code: (err as S3Error).code, message: (err as S3Error).message };
  }
  throw new Error("the configuration was accepted; expected it to be refused");
}

test("a CORSConfiguration is read with every field, and written back as it reads", () => {
  const config = parseCorsXml(
    xml(
      rule(
        "<ID>app</ID><AllowedOrigin>https://app.example.com</AllowedOrigin><AllowedOrigin>http://localhost:*</AllowedOrigin>" +
          "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>" +
          "<AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader>" +
          "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>",
      ) +
        rule(
          "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>",
        ),
    ),
  );
  assert.deepEqual(config, CONFIG);
  assert.deepEqual(parseCorsXml(Buffer.from(corsXml(config))), config);
});

test("a configuration without rules, or a rule without an origin or a method, is MalformedXML", () => {
  assert.equal(failure("").code, "MalformedXML");
  assert.equal(failure(rule("<AllowedMethod>GET</AllowedMethod>")).code, "MalformedXML");
  assert.equal(failure(rule("<AllowedOrigin>*</AllowedOrigin>")).code, "MalformedXML");
  const maxAge = failure(
    rule(
      "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds>",
    ),
  );
  assert.equal(maxAge.code, "MalformedXML");
  assert.match(maxAge.message, /"soon"/);
});

test("an unsupported method, a second wildcard, a wildcard ExposeHeader and a 101st rule are InvalidRequest", () => {
  const ok = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>";
  const patch = failure(rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"));
  assert.equal(patch.code, "InvalidRequest");
  assert.match(patch.message, /Unsupported method is PATCH/);
  const origin = failure(
    rule("<AllowedOrigin>https://*.*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
  );
  assert.equal(origin.code, "InvalidRequest");
  assert.match(
    origin.message,
    /AllowedOrigin "https:\/\/\*\.\*\.example\.com" can not have more than one wildcard/,
  );
  assert.equal(failure(rule(`${ok}<AllowedHeader>x-*-*</AllowedHeader>`)).code, "InvalidRequest");
  assert.equal(failure(rule(`${ok}<ExposeHeader>*</ExposeHeader>`)).code, "InvalidRequest");
  assert.equal(parseCorsXml(xml(rule(ok).repeat(100))).CORSRules.length, 100);
  const many = failure(rule(ok).repeat(101));
  assert.equal(many.code, "InvalidRequest");
  assert.match(many.message, /101 rules; at most 100/);
});

test("a pattern's one wildcard stands for any run of characters, and case does not count", () => {
  assert.equal(wildcardMatches("*", "https://anything.example"), true);
  assert.equal(wildcardMatches("https://*.example.com", "https://app.example.com"), true);
  assert.equal(wildcardMatches("https://*.example.com", "https://example.com"), false);
  assert.equal(wildcardMatches("https://*.example.com", "https://example.com.evil.net"), false);
  assert.equal(wildcardMatches("http://localhost:*", "http://localhost:5173"), true);
  assert.equal(wildcardMatches("x-amz-*", "X-Amz-Date"), true);
  assert.equal(wildcardMatches("Content-Type", "content-type"), true);
  assert.equal(wildcardMatches("https://app.example.com", "https://app.example.com.evil.net"), false);
});

test("the first rule matching origin, method and every requested header wins", () => {
  assert.equal(
    matchRule(CONFIG, "https://app.example.com", "PUT", ["Content-Type", "x-amz-meta-owner"]),
    APP,
  );
  assert.equal(matchRule(CONFIG, "http://localhost:5173", "GET"), APP);
  // Neither rule allows this header: the app's names others, the one for anyone names none.
  assert.equal(matchRule(CONFIG, "https://app.example.com", "GET", ["x-custom"]), undefined);
  assert.equal(matchRule(CONFIG, "https://app.example.com", "HEAD"), ANYONE_READS);
  assert.equal(matchRule(CONFIG, "https://other.example", "GET"), ANYONE_READS);
  assert.equal(matchRule(CONFIG, "https://other.example", "PUT"), undefined);
  assert.equal(matchRule(CONFIG, "https://app.example.com", "DELETE"), undefined);
});

test("a rule for any origin answers * without credentials, and echoes the origin with them", () => {
  const headers = (r: CorsRule, credentialed: boolean, asked?: string[]) =>
    Object.fromEntries(corsHeadersOf(r, "https://other.example", { credentialed, ...(asked && { asked }) }));
  assert.deepEqual(headers(ANYONE_READS, false), {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD",
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  });
  assert.equal(headers(ANYONE_READS, true)["access-control-allow-origin"], "https://other.example");
  assert.equal(headers(ANYONE_READS, true)["access-control-allow-credentials"], "true");
  assert.deepEqual(headers(APP, false, requestedHeaders(" Content-Type ,x-amz-date,")), {
    "access-control-allow-origin": "https://other.example",
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, PUT",
    "access-control-allow-headers": "Content-Type, x-amz-date",
    "access-control-expose-headers": "ETag",
    "access-control-max-age": "600",
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  });
});
