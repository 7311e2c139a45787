import assert from "node:assert/strict";
import { test } from "node:test";
import { HOST_ARCHITECTURE } from "../../../control/registry/validate.js";
import { invalidInput, NimbusError, type Problem } from "../../../shared/errors.js";
import { lambdaErrorResponse, lambdaMessage } from "./errors.js";

const p = (field: string, value: unknown, rule: Problem["rule"], expected: string): Problem => ({
  field,
  value,
  rule,
  expected,
});

test("a core problem renders in Lambda's validation form, under Lambda's field name", () => {
  const err = invalidInput([p("memoryMb", 20000, "range", "be an integer from 128 to 10240 (MB)")]);
  assert.equal(err.message, "memoryMb is 20000: it must be an integer from 128 to 10240 (MB)");
  assert.equal(
    lambdaMessage(err),
    "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: Member must be an integer from 128 to 10240 (MB)",
  );
});

test("nested fields keep their members, keys read as Lambda's 'Keys must', the architecture as a list", () => {
  const err = invalidInput([
    p("environment", "1BAD", "key", "start with a letter"),
    p("additionalVersionWeights.2", 1.5, "range", "be a number from 0.0 to 1.0"),
    p("architecture", "sparc", "oneOf", `be ["${HOST_ARCHITECTURE}"]`),
  ]);
  assert.equal(
    lambdaMessage(err),
    "3 validation errors detected: " +
      "Value '1BAD' at 'environment.variables' failed to satisfy constraint: Keys must start with a letter; " +
      "Value '1.5' at 'routingConfig.additionalVersionWeights.2' failed to satisfy constraint: Member must be a number from 0.0 to 1.0; " +
      `Value '["sparc"]' at 'architectures' failed to satisfy constraint: Member must be ["${HOST_ARCHITECTURE}"]`,
  );
});

test("reserved environment keys and an environment over 4 KB keep Lambda's own sentences", () => {
  const reserved = invalidInput([
    p("environment", ["AWS_REGION", "LAMBDA_TASK_ROOT"], "reserved", "not set them"),
  ]);
  assert.match(
    lambdaMessage(reserved),
    /reserved keys .*Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT$/,
  );
  assert.match(
    reserved.message,
    /^environment is \["AWS_REGION","LAMBDA_TASK_ROOT"\]: it must not set them$/,
  );
  const big = invalidInput([p("environment", 5000, "size", "be at most 4096 bytes")]);
  assert.match(lambdaMessage(big), /exceeded the 4KB limit\. String measured: 5000 bytes$/);
  assert.equal(big.message, "environment is 5000 bytes: it must be at most 4096 bytes");
});

test("an error whose problems Lambda has no form for answers with its own message", () => {
  const err = new NimbusError("InvalidParameter", "The dead-letter target ghost does not exist.", {}, [
    p("deadLetterTarget", "ghost", "exists", "name an existing function"),
  ]);
  assert.equal(lambdaMessage(err), "The dead-letter target ghost does not exist.");
  assert.equal(lambdaMessage(new NimbusError("NotFound", "Function not found: x")), "Function not found: x");
});

test("the response carries Lambda's error name and the rendered message, not the problems", async () => {
  const err = invalidInput([p("timeoutS", 0, "range", "be an integer from 1 to 900 (seconds)")]);
  const res = lambdaErrorResponse(err, "req-1");
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("x-amzn-errortype"), "InvalidParameterValueException");
  assert.deepEqual(await res.json(), {
    Type: "User",
    message:
      "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must be an integer from 1 to 900 (seconds)",
  });
});
