import assert from "node:assert/strict";
import { test } from "node:test";
import { type HttpAnswer, httpResponseFromV1, httpResponseFromV2, type MalformedAnswer } from "./http.js";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48]);

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function answer(a: HttpAnswer | MalformedAnswer): HttpAnswer {
  if ("malformed" in a) assert.fail(`expected an answer, got malformed: ${a.reason}`);
  return a;
}

function reason(a: HttpAnswer | MalformedAnswer): string {
  if (!("malformed" in a)) assert.fail(`expected a malformed answer, got status ${a.status}`);
  return a.reason;
}

function seen(a: HttpAnswer | MalformedAnswer): {
  status: number;
  headers: [string, string][];
  body: string;
} {
  const ok = answer(a);
  return { status: ok.status, headers: ok.headers, body: ok.body.toString("utf8") };
}

test("2.0: a structured result gives its status, lower-cased headers with values as strings, and its body", () => {
  const result = {
    statusCode: 201,
    headers: { "Content-Type": "text/plain", "X-Count": 3, "X-Cached": false },
    body: "created",
  };
  assert.deepEqual(seen(httpResponseFromV2(json(result))), {
    status: 201,
    headers: [
      ["content-type", "text/plain"],
      ["x-count", "3"],
      ["x-cached", "false"],
    ],
    body: "created",
  });
});

test("2.0: each cookie becomes its own set-cookie header, after a set-cookie the headers already hold", () => {
  const result = {
    statusCode: 200,
    headers: { "Set-Cookie": "a=1" },
    cookies: ["b=2; Max-Age=60", "c=3; HttpOnly"],
  };
  assert.deepEqual(answer(httpResponseFromV2(json(result))).headers, [
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2; Max-Age=60"],
    ["set-cookie", "c=3; HttpOnly"],
  ]);
});

test("2.0: a base64 body is decoded, so a PNG reaches the client byte for byte", () => {
  const result = {
    statusCode: 200,
    headers: { "content-type": "image/png" },
    body: PNG.toString("base64"),
    isBase64Encoded: true,
  };
  assert.deepEqual(answer(httpResponseFromV2(json(result))).body, PNG);
});

test("2.0: base64 without padding is accepted", () => {
  const result = { statusCode: 200, body: "aGk", isBase64Encoded: true };
  assert.equal(answer(httpResponseFromV2(json(result))).body.toString(), "hi");
});

test("2.0: a structured result without body or headers is an empty answer with no headers", () => {
  assert.deepEqual(seen(httpResponseFromV2(json({ statusCode: 204 }))), {
    status: 204,
    headers: [],
    body: "",
  });
  assert.equal(answer(httpResponseFromV2(json({ statusCode: 204, body: null }))).body.length, 0);
});

test("2.0: multiValueHeaders is not part of 2.0 and is ignored", () => {
  const result = { statusCode: 200, headers: { a: "1" }, multiValueHeaders: { b: ["2", "3"] }, body: "" };
  assert.deepEqual(answer(httpResponseFromV2(json(result))).headers, [["a", "1"]]);
});

test("2.0: two spellings of one header name are one header, the later one kept", () => {
  const result = { statusCode: 200, headers: { "Content-Type": "text/plain", "content-type": "text/html" } };
  assert.deepEqual(answer(httpResponseFromV2(json(result))).headers, [["content-type", "text/html"]]);
});

test("2.0 and 1.0: a function's framing headers are left out, the rest kept in order", () => {
  // Frameworks behind adapters copy these from their server; the platform's server sets its own.
  const framing = {
    "Content-Length": "3",
    Connection: "close",
    "Keep-Alive": "timeout=5",
    "Transfer-Encoding": "chunked",
    TE: "trailers",
    Trailer: "x-sum",
    Upgrade: "websocket",
    "Proxy-Connection": "keep-alive",
  };
  const v2 = { statusCode: 200, headers: { "x-a": "1", ...framing, "X-B": "2", "X-A": "3" }, body: "hello" };
  assert.deepEqual(seen(httpResponseFromV2(json(v2))), {
    status: 200,
    headers: [
      ["x-b", "2"],
      ["x-a", "3"],
    ],
    body: "hello",
  });
  const v1 = {
    statusCode: 200,
    headers: framing,
    multiValueHeaders: { "content-length": ["1"], "x-c": ["4"] },
  };
  assert.deepEqual(answer(httpResponseFromV1(json(v1))).headers, [["x-c", "4"]]);
});

test("2.0: an object without statusCode is a 200 application/json whose body is the result's JSON text", () => {
  const payload = Buffer.from('{"message":"Hello, world!","body":"not used as the body"}');
  assert.deepEqual(seen(httpResponseFromV2(payload)), {
    status: 200,
    headers: [["content-type", "application/json"]],
    body: '{"message":"Hello, world!","body":"not used as the body"}',
  });
});

test("2.0: arrays, numbers and booleans are 200 application/json with their JSON text", () => {
  for (const text of ["[1,2,3]", "42", "true"])
    assert.deepEqual(seen(httpResponseFromV2(Buffer.from(text))), {
      status: 200,
      headers: [["content-type", "application/json"]],
      body: text,
    });
});

test("2.0: a string result reaches the client as JSON, quotes included, as Lambda's function URL guide shows", () => {
  const a = seen(httpResponseFromV2(json("Hello, world!")));
  assert.deepEqual(a, {
    status: 200,
    headers: [["content-type", "application/json"]],
    body: '"Hello, world!"',
  });
  assert.equal(JSON.parse(a.body), "Hello, world!");
});

test("2.0: a null result (a handler that returned nothing) is a 200 whose JSON body is null", () => {
  assert.deepEqual(seen(httpResponseFromV2(Buffer.from("null"))), {
    status: 200,
    headers: [["content-type", "application/json"]],
    body: "null",
  });
});

test("2.0: an empty result is a 200 application/json with an empty body", () => {
  for (const payload of [Buffer.alloc(0), Buffer.from(" \n")])
    assert.deepEqual(seen(httpResponseFromV2(payload)), {
      status: 200,
      headers: [["content-type", "application/json"]],
      body: "",
    });
});

test("2.0: a result that is not JSON is malformed, the reason quoting its start", () => {
  const r = reason(httpResponseFromV2(Buffer.from("<html>hello</html>")));
  assert.match(r, /result is not JSON/);
  assert.match(r, /starts "<html>hello<\/html>"/);
});

test("2.0: a statusCode that is not an integer from 200 to 599 is malformed, the reason naming the value", () => {
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: "200" }))),
    'statusCode must be an integer from 200 to 599, got a string ("200")',
  );
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200.5 }))),
    "statusCode must be an integer from 200 to 599, got the number 200.5",
  );
  // A 1xx sent as the answer would leave the client waiting for a final status.
  for (const statusCode of [100, 101, 103, 199])
    assert.equal(
      reason(httpResponseFromV1(json({ statusCode }))),
      `statusCode ${statusCode} is informational (1xx), which cannot be the answer's final status; expected an integer from 200 to 599`,
    );
  assert.equal(answer(httpResponseFromV2(json({ statusCode: 200 }))).status, 200);
  assert.equal(answer(httpResponseFromV2(json({ statusCode: 599 }))).status, 599);
  assert.match(reason(httpResponseFromV2(json({ statusCode: 99 }))), /got the number 99/);
  assert.match(reason(httpResponseFromV2(json({ statusCode: 600 }))), /got the number 600/);
  assert.match(reason(httpResponseFromV2(json({ statusCode: null }))), /got null/);
});

test("2.0: headers that are not an object of scalars are malformed, the reason naming the header", () => {
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: ["a", "b"] }))),
    "headers must be an object of header names to strings, got an array",
  );
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "x-list": ["a", "b"] } }))),
    'headers["x-list"] must be a string, number or boolean, got an array',
  );
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "x-none": null } }))),
    'headers["x-none"] must be a string, number or boolean, got null',
  );
});

test("2.0: a header name or value HTTP cannot carry is malformed instead of failing the gateway", () => {
  assert.match(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "bad name": "x" } }))),
    /header name "bad name" is not a valid HTTP header name/,
  );
  assert.match(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "x-a": "one\r\nx-b: two" } }))),
    /header "x-a" has a line break/,
  );
  // Tab, space and visible ASCII only: Node would fail the write past U+00FF, and send the rest
  // in an encoding that depends on how the answer is written.
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "x-name": "Zoë ☃" } }))),
    'header "x-name" has "ë" (U+00EB) in its value; header values are ASCII (HTTP names no encoding for other bytes): percent-encode it (encodeURIComponent) or send it in the body',
  );
  assert.match(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "x-s": "☃" } }))),
    /"☃" \(U\+2603\)/,
  );
  assert.match(
    reason(httpResponseFromV1(json({ statusCode: 200, multiValueHeaders: { "x-bell": ["a\u0007"] } }))),
    /header "x-bell" has the control character U\+0007 in its value/,
  );
  assert.match(reason(httpResponseFromV2(json({ statusCode: 200, cookies: ["a=\u{1F36A}"] }))), /U\+1F36A/);
  assert.match(
    reason(httpResponseFromV2(json({ statusCode: 200, headers: { "x-del": "a\u007f" } }))),
    /U\+007F/,
  );
  const printable = " !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~";
  assert.deepEqual(
    answer(httpResponseFromV2(json({ statusCode: 200, headers: { "x-ok": `a\t${printable}` } }))).headers,
    [["x-ok", `a\t${printable}`]],
  );
});

test("2.0: a body that is not a string is malformed, the reason saying to stringify it", () => {
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, body: { ok: true } }))),
    "body must be a string, got an object; to send JSON, return body: JSON.stringify(value)",
  );
});

test("2.0: cookies that are not an array of strings are malformed", () => {
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, cookies: "a=1" }))),
    'cookies must be an array of strings, got a string ("a=1")',
  );
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, cookies: ["a=1", 2] }))),
    "cookies[1] must be a string, got the number 2",
  );
});

test("2.0: isBase64Encoded with a body that is not base64 is malformed, the reason pointing at the character", () => {
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, body: "not base64!", isBase64Encoded: true }))),
    'isBase64Encoded is true but body is not base64: " " at position 3 is not a base64 character',
  );
  assert.match(
    reason(httpResponseFromV2(json({ statusCode: 200, body: "abcde", isBase64Encoded: true }))),
    /its length \(5\) is not a base64 length/,
  );
  assert.equal(
    reason(httpResponseFromV2(json({ statusCode: 200, body: "aGk=", isBase64Encoded: "yes" }))),
    'isBase64Encoded must be true or false, got a string ("yes")',
  );
});

test("1.0: headers and multiValueHeaders merge, a name in both taking the multi values, each its own line", () => {
  const result = {
    statusCode: 200,
    headers: { "Content-Type": "text/plain", "Set-Cookie": "dropped=1" },
    multiValueHeaders: { "Set-Cookie": ["a=1", "b=2"], "X-Multi": ["v1", "v2"] },
    body: "ok",
  };
  assert.deepEqual(seen(httpResponseFromV1(json(result))), {
    status: 200,
    headers: [
      ["content-type", "text/plain"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["x-multi", "v1"],
      ["x-multi", "v2"],
    ],
    body: "ok",
  });
});

test("1.0: a base64 body round-trips a PNG", () => {
  const result = { statusCode: 200, body: PNG.toString("base64"), isBase64Encoded: true };
  assert.deepEqual(answer(httpResponseFromV1(json(result))).body, PNG);
});

test("1.0: statusCode is required; nothing is inferred for objects, strings or an empty result", () => {
  assert.equal(
    reason(httpResponseFromV1(json({ message: "hi" }))),
    'the result has no statusCode; payload format 1.0 needs one, as in {"statusCode":200,"body":"…"}',
  );
  assert.match(
    reason(httpResponseFromV1(json("hi"))),
    /returned a string \("hi"\); payload format 1.0 needs an object/,
  );
  assert.match(reason(httpResponseFromV1(Buffer.from("null"))), /returned null/);
  assert.match(reason(httpResponseFromV1(Buffer.alloc(0))), /returned nothing/);
});

test("1.0: multiValueHeaders that are not arrays of scalars are malformed", () => {
  assert.equal(
    reason(httpResponseFromV1(json({ statusCode: 200, multiValueHeaders: { a: "1" } }))),
    'multiValueHeaders["a"] must be an array of strings, got a string ("1")',
  );
  assert.equal(
    reason(httpResponseFromV1(json({ statusCode: 200, multiValueHeaders: { a: [{}] } }))),
    'multiValueHeaders["a"][0] must be a string, number or boolean, got an object',
  );
});

test("1.0: a cookies field is not part of 1.0 and is ignored", () => {
  assert.deepEqual(answer(httpResponseFromV1(json({ statusCode: 200, cookies: ["a=1"] }))).headers, []);
});
