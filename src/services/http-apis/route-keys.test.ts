import assert from "node:assert/strict";
import { test } from "node:test";
import { NimbusError } from "../../shared/errors.js";
import { checkRouteKey, compileRouter, parseRouteKey } from "./route-keys.js";

function errorOf(key: string): string {
  const checked = checkRouteKey(key);
  assert.ok("error" in checked, `${key} should be refused`);
  return checked.error;
}

function router(...keys: string[]) {
  return compileRouter(keys.map((routeKey) => ({ routeKey, target: routeKey })));
}

test("a route key parses into its method, path and segments", () => {
  assert.deepEqual(parseRouteKey("GET /items/{id}/files/{rest+}"), {
    kind: "path",
    routeKey: "GET /items/{id}/files/{rest+}",
    method: "GET",
    path: "/items/{id}/files/{rest+}",
    segments: [
      { kind: "literal", value: "items" },
      { kind: "variable", name: "id" },
      { kind: "literal", value: "files" },
      { kind: "greedy", name: "rest" },
    ],
  });
  assert.deepEqual(parseRouteKey("$default"), { kind: "default", routeKey: "$default" });
  assert.deepEqual(parseRouteKey("ANY /"), {
    kind: "path",
    routeKey: "ANY /",
    method: "ANY",
    path: "/",
    segments: [],
  });
});

test("a key without a method and a path says what shape is expected", () => {
  assert.equal(errorOf("GET"), "Route key 'GET' must be '$default' or 'METHOD /path'");
  assert.equal(errorOf("$DEFAULT"), "Route key '$DEFAULT' must be '$default' or 'METHOD /path'");
  assert.equal(
    errorOf("GET items"),
    "Route key 'GET items' must be '$default' or 'METHOD /path': the path 'items' must start with '/'",
  );
});

test("an unknown or lower-case method is refused with the list of methods", () => {
  assert.match(
    errorOf("FETCH /x"),
    /has the method 'FETCH': expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY/,
  );
  assert.match(errorOf("get /x"), /has the method 'get'/);
  assert.match(errorOf("GET  /x"), /the path ' \/x' must start with '\/'/);
});

test("malformed paths are refused, each with what is wrong", () => {
  assert.match(errorOf("GET /items/"), /ends with '\/': only the root path/);
  assert.match(errorOf("GET /a//b"), /empty segment/);
  assert.match(errorOf("GET /a?x=1"), /query or fragment/);
  assert.match(
    errorOf("GET /files/{name}.txt"),
    /segment '\{name\}\.txt': a segment is literal text or a whole '\{name\}'/,
  );
  assert.match(errorOf("GET /a/{}"), /segment '\{\}'/);
  assert.match(errorOf("GET /{proxy+}/more"), /greedy variable '\{proxy\+\}' before its last segment/);
  assert.match(errorOf("GET /{id}/x/{id}"), /names the path variable 'id' twice/);
});

test("parseRouteKey throws an InvalidParameter error carrying the message", () => {
  assert.throws(
    () => parseRouteKey("GET items"),
    (err: unknown) =>
      err instanceof NimbusError &&
      err.code === "InvalidParameter" &&
      err.message.startsWith("Route key 'GET items'"),
  );
});

test("an exact literal route beats a variable one, which beats a greedy one, which beats $default", () => {
  const r = router("$default", "GET /pets/{proxy+}", "GET /pets/{id}", "GET /pets/dog");
  assert.equal(r.match("GET", "/pets/dog")?.routeKey, "GET /pets/dog");
  assert.equal(r.match("GET", "/pets/7")?.routeKey, "GET /pets/{id}");
  assert.equal(r.match("GET", "/pets/7/toys")?.routeKey, "GET /pets/{proxy+}");
  assert.equal(r.match("GET", "/cats")?.routeKey, "$default");
});

test("more literal segments win, then a literal earlier in the path", () => {
  const r = router("GET /a/{x}/{y}", "GET /{x}/b/c", "GET /{x}/b/{y}", "GET /a/{x}/c");
  assert.equal(r.match("GET", "/a/b/c")?.routeKey, "GET /a/{x}/c");
  assert.equal(r.match("GET", "/z/b/c")?.routeKey, "GET /{x}/b/c");
  assert.equal(r.match("GET", "/a/q/r")?.routeKey, "GET /a/{x}/{y}");
});

test("a greedy route with more literals, then with a longer prefix, wins over a shorter one", () => {
  const r = router("ANY /{proxy+}", "GET /api/{proxy+}", "GET /api/{v}/{proxy+}");
  assert.equal(r.match("GET", "/api/v1/users")?.routeKey, "GET /api/{v}/{proxy+}");
  assert.equal(r.match("GET", "/api/v1")?.routeKey, "GET /api/{proxy+}");
  assert.equal(r.match("GET", "/other/x")?.routeKey, "ANY /{proxy+}");
});

test("a route for the method beats ANY on the same path; another method falls to ANY", () => {
  const r = router("ANY /pets", "GET /pets");
  assert.equal(r.match("GET", "/pets")?.routeKey, "GET /pets");
  assert.equal(r.match("DELETE", "/pets")?.routeKey, "ANY /pets");
});

test("a more specific path wins even when only ANY covers it", () => {
  const r = router("ANY /pets/dog", "GET /pets/{id}");
  assert.equal(r.match("GET", "/pets/dog")?.routeKey, "ANY /pets/dog");
});

test("a method with no route of its own on a literal path finds a variable route for that method", () => {
  const r = router("GET /pets/dog", "POST /pets/{id}");
  assert.equal(r.match("POST", "/pets/dog")?.routeKey, "POST /pets/{id}");
});

test("a GET route does not answer HEAD, and no route at all is a miss", () => {
  const r = router("GET /pets");
  assert.equal(r.match("HEAD", "/pets"), undefined);
  assert.equal(r.match("GET", "/dogs"), undefined);
});

test("path parameters are percent-decoded, and a route without variables has none", () => {
  const r = router("GET /users/{name}/files/{path+}", "GET /plain");
  assert.deepEqual(r.match("GET", "/users/Jane%20Doe/files/a%2Fb/c%C3%A9.txt")?.pathParameters, {
    name: "Jane Doe",
    path: "a/b/cé.txt",
  });
  assert.equal(r.match("GET", "/plain")?.pathParameters, undefined);
  assert.deepEqual(router("GET /x/{v}").match("GET", "/x/a+b%zz")?.pathParameters, { v: "a+b%zz" });
});

test("a literal route matches its percent-encoded spelling", () => {
  assert.equal(router("GET /caf%C3%A9").match("GET", "/café")?.routeKey, "GET /caf%C3%A9");
  assert.equal(router("GET /café").match("GET", "/caf%C3%A9")?.routeKey, "GET /café");
});

test("a trailing slash in the request routes as without it; a variable never takes an empty segment", () => {
  const r = router("GET /items", "GET /items/{id}");
  assert.equal(r.match("GET", "/items/")?.routeKey, "GET /items");
  assert.deepEqual(r.match("GET", "/items/7/")?.pathParameters, { id: "7" });
  assert.equal(r.match("GET", "/items//x"), undefined);
  assert.equal(router("GET /{proxy+}").match("GET", "/"), undefined);
  assert.deepEqual(router("GET /f/{p+}").match("GET", "/f/a/b/")?.pathParameters, { p: "a/b/" });
});

test("the root route matches the root path", () => {
  const r = router("GET /", "GET /{id}");
  assert.equal(r.match("GET", "/")?.routeKey, "GET /");
  assert.equal(r.match("GET", "/x")?.routeKey, "GET /{id}");
});

test("$default gives the request's path as its resource; a route gives its template", () => {
  const r = router("$default", "GET /items/{id}");
  assert.equal(r.match("GET", "/a/b")?.resource, "/a/b");
  assert.equal(r.match("GET", "/items/1")?.resource, "/items/{id}");
});

test("a route's target comes back with its match", () => {
  const r = compileRouter([{ routeKey: "GET /x", target: { integration: "fn-1" } }]);
  assert.deepEqual(r.match("GET", "/x")?.target, { integration: "fn-1" });
});

test("compiling refuses a repeated key and two keys of the same shape", () => {
  assert.throws(() => router("GET /a", "GET /a"), /'GET \/a' is given twice/);
  assert.throws(() => router("GET /a/{x}", "GET /a/{y}"), /'GET \/a\/\{y\}' conflicts with 'GET \/a\/\{x\}'/);
  assert.throws(() => router("$default", "$default"), /given twice/);
  assert.throws(() => router("GET nope"), /must be '\$default' or 'METHOD \/path'/);
  router("GET /a/{x}", "POST /a/{y}");
});

test("a variable named __proto__ is an own parameter, not the prototype", () => {
  const params = router("GET /{__proto__}").match("GET", "/x")?.pathParameters;
  assert.equal(Object.getOwnPropertyDescriptor(params, "__proto__")?.value, "x");
});

test("a thousand routes still match by walking the path, not the list", () => {
  const keys = Array.from({ length: 1000 }, (_, i) => `GET /svc${i}/items/{id}`);
  const r = router(...keys);
  assert.deepEqual(r.match("GET", "/svc999/items/42")?.pathParameters, { id: "42" });
});
