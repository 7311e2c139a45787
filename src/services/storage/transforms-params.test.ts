import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { S3Error } from "./errors.js";
import { DEFAULT_TRANSFORMS } from "./transforms-config.js";
import { canonicalParams, parseTransformParams } from "./transforms-params.js";

const parse = (query: string, limits = DEFAULT_TRANSFORMS) =>
  parseTransformParams(new URLSearchParams(query), limits);

function refusal(query: string, limits = DEFAULT_TRANSFORMS): S3Error {
  try {
    parse(query, limits);
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error(`${query} was taken`);
}

describe("a render request's parameters", () => {
  test("without parameters: the source's size and format, cover, quality 80", () => {
    assert.deepEqual(parse(""), {
      width: undefined,
      height: undefined,
      resize: "cover",
      quality: 80,
      format: "origin",
    });
  });

  test("each parameter as storage-js writes it", () => {
    assert.deepEqual(parse("width=300&height=200&resize=contain&format=webp&quality=55&download=a.webp"), {
      width: 300,
      height: 200,
      resize: "contain",
      quality: 55,
      format: "webp",
    });
  });

  test("a bad value is 400 InvalidArgument naming the parameter and what it takes", () => {
    const cases: [string, string, RegExp][] = [
      ["width=0", "width", /^width is "0": expected an integer from 1 to 2500 \(this bucket's maxWidth\)$/],
      ["width=-5", "width", /^width is "-5": expected an integer from 1 to 2500/],
      ["width=1.5", "width", /^width is "1\.5": expected an integer/],
      ["width=abc", "width", /^width is "abc"/],
      ["width=", "width", /^width is "": expected an integer/],
      ["width=2501", "width", /^width is "2501": expected an integer from 1 to 2500/],
      [
        "height=3000",
        "height",
        /^height is "3000": expected an integer from 1 to 2500 \(this bucket's maxHeight\)$/,
      ],
      ["quality=19", "quality", /^quality is "19": expected an integer from 20 to 100$/],
      ["quality=101", "quality", /^quality is "101": expected an integer from 20 to 100$/],
      ["resize=crop", "resize", /^resize is "crop": expected one of cover, contain, fill$/],
      ["format=gif", "format", /^format is "gif": expected one of origin, webp, avif, jpeg, png$/],
    ];
    for (const [query, name, message] of cases) {
      const err = refusal(query);
      assert.equal(err.status, 400, query);
      assert.equal(err.code, "InvalidArgument", query);
      assert.equal(err.fields.ArgumentName, name, query);
      assert.match(err.message, message, query);
    }
  });

  test("the bucket's own limits and formats bound the request", () => {
    const limits = { ...DEFAULT_TRANSFORMS, maxWidth: 100, formats: ["jpeg" as const] };
    assert.match(refusal("width=101", limits).message, /from 1 to 100 \(this bucket's maxWidth\)/);
    assert.match(
      refusal("format=webp", limits).message,
      /^format is "webp": expected one of origin, jpeg \(this bucket's formats\)$/,
    );
    assert.equal(parse("format=jpeg&width=100", limits).format, "jpeg");
  });

  test("equal transforms give equal canonical text; different ones do not", () => {
    assert.equal(
      canonicalParams(parse("width=10&quality=80")),
      canonicalParams(parse("resize=cover&width=10")),
    );
    assert.notEqual(canonicalParams(parse("width=10")), canonicalParams(parse("height=10")));
    assert.notEqual(canonicalParams(parse("width=10")), canonicalParams(parse("width=10&format=png")));
  });
});
