// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings are written with ${…} on purpose
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LineCounter, parseDocument } from "yaml";
import {
  INTRINSIC_TAGS,
  pathText,
  type ResolveContext,
  resolve,
  TemplateError,
  toPlain,
} from "./intrinsics.js";

function plain(text: string) {
  const lines = new LineCounter();
  const doc = parseDocument(text, { customTags: INTRINSIC_TAGS, lineCounter: lines });
  assert.deepEqual(doc.errors, []);
  assert.deepEqual(doc.warnings, []);
  return toPlain(doc, lines);
}

const ctx: ResolveContext = {
  ref: (n) => ({ Stage: "dev", "AWS::Region": "eu-west-1", Hello: "app-Hello" })[n],
  getAtt: (id, attr) =>
    id === "Hello" && attr === "Arn" ? "arn:aws:lambda:eu-west-1:1:function:app-Hello" : undefined,
};
const where = (p: readonly (string | number)[]) => pathText(p);

describe("intrinsic functions", () => {
  test("every supported short tag becomes its long form, in scalar and list forms", () => {
    const { value } = plain(
      [
        "a: !Ref Stage",
        "b: !GetAtt Hello.Arn",
        "c: !GetAtt [Hello, Arn]",
        "d: !Sub ${Stage}-x",
        "e: !Sub ['${Name}-${Stage}', { Name: n }]",
        "f: !Join [',', [a, !Ref Stage]]",
        "g: { 'Fn::Sub': '${AWS::Region}' }",
      ].join("\n"),
    );
    assert.deepEqual(value, {
      a: { Ref: "Stage" },
      b: { "Fn::GetAtt": ["Hello", "Arn"] },
      c: { "Fn::GetAtt": ["Hello", "Arn"] },
      d: { "Fn::Sub": "${Stage}-x" },
      e: { "Fn::Sub": ["${Name}-${Stage}", { Name: "n" }] },
      f: { "Fn::Join": [",", ["a", { Ref: "Stage" }]] },
      g: { "Fn::Sub": "${AWS::Region}" },
    });
  });

  test("long and short forms resolve to the same values", () => {
    const { value } = plain(
      [
        "a: !Ref Stage",
        "b: { Ref: Stage }",
        "c: !GetAtt Hello.Arn",
        "d: { 'Fn::GetAtt': [Hello, Arn] }",
        "e: !Sub '${Hello}/${Hello.Arn}/${!Literal}/${AWS::Region}'",
        "f: !Sub ['${Name}-${Stage}', { Name: !Ref Hello }]",
        "g: !Join ['-', [a, !Ref Stage, !Sub '${Stage}2']]",
      ].join("\n"),
    );
    assert.deepEqual(resolve(value, ctx, [], where), {
      a: "dev",
      b: "dev",
      c: "arn:aws:lambda:eu-west-1:1:function:app-Hello",
      d: "arn:aws:lambda:eu-west-1:1:function:app-Hello",
      e: "app-Hello/arn:aws:lambda:eu-west-1:1:function:app-Hello/${Literal}/eu-west-1",
      f: "app-Hello-dev",
      g: "a-dev-dev2",
    });
  });

  test("an unsupported intrinsic parses, and resolving it names it and the supported ones", () => {
    const { value } = plain("x: !If [IsProd, 512, 128]\ny: !Select [0, [a]]");
    assert.deepEqual(value, { x: { "Fn::If": ["IsProd", 512, 128] }, y: { "Fn::Select": [0, ["a"]] } });
    assert.throws(
      () => resolve(value, ctx, [], where),
      (err: Error) =>
        err instanceof TemplateError &&
        err.message === "x: Fn::If is not supported (supported: Ref, Fn::GetAtt, Fn::Sub, Fn::Join)",
    );
  });

  test("a Ref to an unknown name says so with its place", () => {
    const { value } = plain("Resources:\n  A:\n    Properties:\n      X: !Ref Nope");
    assert.throws(
      () => resolve(value, ctx, [], where),
      /Resources\.A\.Properties\.X: Ref names "Nope", which is no parameter/,
    );
  });

  test("positions give the line and column of each value", () => {
    const { positions } = plain(
      "Resources:\n  Hello:\n    Type: AWS::Serverless::Function\n    Properties:\n      MemorySize: 256\n",
    );
    assert.equal(positions.at(["Resources", "Hello", "Properties", "MemorySize"]), "5:7");
    assert.equal(positions.at(["Resources", "Missing"]), undefined);
  });
});
