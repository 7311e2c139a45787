/** Nimbus's JSON error body. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { invalidInput, NimbusError } from "../shared/errors.js";
import { nimbusErrorResponse } from "./errors.js";

test("an error answers with its code's status and { error: { code, message, requestId } }", async () => {
  const res = nimbusErrorResponse(new NimbusError("NotFound", "Function not found: resize"), "req-1");
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    error: { code: "NotFound", message: "Function not found: resize", requestId: "req-1" },
  });
});

test("an input refused field by field carries its problems, for a console to show beside each field", async () => {
  const err = invalidInput([
    { field: "memoryMb", value: 64, rule: "range", expected: "be an integer from 128 to 10240 (MB)" },
    { field: "runtime", value: undefined, rule: "required", expected: "be nodejs20.x or newer" },
  ]);
  const res = nimbusErrorResponse(err, "req-2");
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    error: {
      code: "InvalidParameter",
      message: err.message,
      requestId: "req-2",
      problems: [
        { field: "memoryMb", value: 64, rule: "range", expected: "be an integer from 128 to 10240 (MB)" },
        { field: "runtime", value: null, rule: "required", expected: "be nodejs20.x or newer" },
      ],
    },
  });
});
