import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AdminApi,
  type AuthUser,
  authErrorMessage,
  findUser,
  LOOKUP_PAGE_SIZE,
  userRef,
} from "./auth-admin.js";

const user = (n: number): AuthUser => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  email: `user${n}@example.com`,
  is_anonymous: false,
  created_at: "2030-01-01T00:00:00.000Z",
});

/** An admin API over `count` users, recording the calls it was given. */
function fakeAdmin(count: number): AdminApi & { calls: string[] } {
  const users = Array.from({ length: count }, (_, i) => user(i + 1));
  const calls: string[] = [];
  return {
    calls,
    async call<T>(method: string, path: string, o: { query?: Record<string, string> } = {}) {
      calls.push(`${method} ${path}${o.query ? ` page=${o.query.page} per_page=${o.query.per_page}` : ""}`);
      if (path === "/users") {
        const page = Number(o.query?.page);
        const per = Number(o.query?.per_page);
        return { body: { users: users.slice((page - 1) * per, page * per) } as T, headers: new Headers() };
      }
      const found = users.find((u) => `/users/${u.id}` === path);
      if (!found) throw new Error("User not found (user_not_found)");
      return { body: found as T, headers: new Headers() };
    },
  };
}

test("a user is named by its email (it has an @, lower-cased) or else by its id", () => {
  assert.deepEqual(userRef(" Ada@Example.com "), { email: "ada@example.com" });
  assert.deepEqual(userRef("5f0c1c1e-0000-4000-8000-000000000001"), {
    id: "5f0c1c1e-0000-4000-8000-000000000001",
  });
});

test("an email is looked up page after page until its user is found", async () => {
  const admin = fakeAdmin(LOOKUP_PAGE_SIZE + 5);
  const found = await findUser(admin, `USER${LOOKUP_PAGE_SIZE + 3}@example.com`);
  assert.equal(found.email, `user${LOOKUP_PAGE_SIZE + 3}@example.com`);
  assert.deepEqual(admin.calls, [
    `GET /users page=1 per_page=${LOOKUP_PAGE_SIZE}`,
    `GET /users page=2 per_page=${LOOKUP_PAGE_SIZE}`,
  ]);
});

test("an email no user has is an error once the last (short) page is read", async () => {
  const admin = fakeAdmin(3);
  await assert.rejects(findUser(admin, "nobody@example.com"), {
    message: "no user has the email nobody@example.com (user_not_found)",
  });
  assert.equal(admin.calls.length, 1);
});

test("an id is fetched directly", async () => {
  const admin = fakeAdmin(3);
  assert.equal((await findUser(admin, user(2).id)).email, "user2@example.com");
  assert.deepEqual(admin.calls, [`GET /users/${user(2).id}`]);
});

test("the auth API's errors read as their message and code; anything else as its status and body", () => {
  assert.equal(
    authErrorMessage(
      422,
      JSON.stringify({
        code: "email_exists",
        msg: "A user with this email address has already been registered",
      }),
    ),
    "A user with this email address has already been registered (email_exists)",
  );
  assert.equal(authErrorMessage(502, "Bad Gateway"), "the auth API answered HTTP 502: Bad Gateway");
  assert.equal(authErrorMessage(500, ""), "the auth API answered HTTP 500");
});
