import assert from "node:assert/strict";
import { test } from "node:test";
import { buckets, parseExposition, quantile, sumBy } from "./prometheus-text.js";

const BEFORE = `# HELP h a histogram
# TYPE h histogram
h_bucket{le="0.001",function="f"} 0
h_bucket{le="0.01",function="f"} 0
h_bucket{le="0.1",function="f"} 0
h_bucket{le="+Inf",function="f"} 0
c_total{function="f",type="sync"} 10
c_total{function="f",type="async"} 5
c_total{function="g",type="sync"} 1
`;
// 100 new observations: 50 under 1 ms, 40 more under 10 ms, 10 more under 100 ms.
const AFTER = `h_bucket{le="0.001",function="f"} 50
h_bucket{le="0.01",function="f"} 90
h_bucket{le="0.1",function="f"} 100
h_bucket{le="+Inf",function="f"} 100
c_total{function="f",type="sync"} 30
c_total{function="f",type="async"} 5
c_total{function="g",type="sync"} 1
weird{label="a \\"quoted\\" value"} 1
`;

test("samples are read with their labels, escapes included", () => {
  const s = parseExposition(AFTER);
  assert.equal(s.length, 8);
  assert.deepEqual(s.at(-1), { name: "weird", labels: { label: 'a "quoted" value' }, value: 1 });
  assert.deepEqual(
    [...sumBy(s, "c_total", "function")],
    [
      ["f", 35],
      ["g", 1],
    ],
  );
  assert.deepEqual(
    [...sumBy(s, "c_total", "function", { type: "sync" })],
    [
      ["f", 30],
      ["g", 1],
    ],
  );
});

test("quantiles of the observations between two scrapes, interpolated inside their bucket", () => {
  const b = buckets(parseExposition(BEFORE), "h", "function", "f");
  const a = buckets(parseExposition(AFTER), "h", "function", "f");
  // The 50th of 100 is the last of the first bucket: its upper bound.
  assert.equal(quantile(0.5, b, a), 0.001);
  // The 99th: 9 of the 10 in (0.01, 0.1]: 0.01 + 0.09 × 9/10.
  assert.ok(Math.abs(quantile(0.99, b, a)! - 0.091) < 1e-12);
  assert.equal(quantile(0.5, a, a), undefined, "nothing observed in between");
});
