import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { AuthError } from "./errors.js";
import { createHooks, type HookInvoke } from "./hooks.js";

const target = { functionName: "gate", timeoutMs: 2_000 };
const signUp = { metadata: {}, user: { email: "a@example.com" } };

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AuthError, `expected an AuthError, got ${String(err)}`);
    return err;
  }
  assert.fail("the hook let the request through");
}

describe("blocking hooks fail closed", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("a hook that does not answer by its deadline refuses the request, naming the function", async () => {
    let answer: (v: unknown) => void = () => {};
    const invoke: HookInvoke = () => new Promise((resolve) => (answer = resolve));
    const hooks = createHooks({ beforeUserCreated: target, customAccessToken: undefined }, invoke);
    const pending = refusal(hooks.beforeUserCreated(signUp));
    mock.timers.tick(1_999);
    await Promise.resolve();
    mock.timers.tick(1);
    const err = await pending;
    assert.equal(err.code, "hook_timeout");
    assert.equal(err.status, 500);
    assert.equal(err.message, "the before-user-created hook (function gate) did not answer within 2000 ms");
    answer({}); // a late answer changes nothing
  });

  test("an answer just inside the deadline counts", async () => {
    let answer: (v: unknown) => void = () => {};
    const invoke: HookInvoke = () => new Promise((resolve) => (answer = resolve));
    const hooks = createHooks({ beforeUserCreated: undefined, customAccessToken: target }, invoke);
    const claims = { sub: "u1", iss: "nimbus", role: "authenticated" };
    const pending = hooks.customAccessToken({ user_id: "u1", claims, authentication_method: "password" });
    mock.timers.tick(1_999);
    answer({ claims: { ...claims, plan: "pro", sub: "other" } });
    assert.deepEqual(await pending, { ...claims, plan: "pro" });
  });

  test("a hook that throws, or answers nonsense, refuses the request", async () => {
    const throws = createHooks({ beforeUserCreated: target, customAccessToken: target }, async () => {
      throw new Error("function gate failed: Unhandled");
    });
    const failed = await refusal(throws.beforeUserCreated(signUp));
    assert.equal(failed.code, "hook_timeout");
    assert.match(failed.message, /before-user-created hook \(function gate\) failed: function gate failed/);

    const nonsense = createHooks({ beforeUserCreated: target, customAccessToken: target }, async () => "yes");
    assert.equal((await refusal(nonsense.beforeUserCreated(signUp))).code, "hook_payload_invalid");
    const noClaims = nonsense.customAccessToken({
      user_id: "u1",
      claims: {},
      authentication_method: "password",
    });
    assert.equal((await refusal(noClaims)).code, "hook_payload_invalid");
  });
});
