import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";

const MODULE = new URL("./trace-env.js", import.meta.url).href;

/** Runs `body` in a Node process of its own with a clean environment; returns what it prints, parsed. */
function run(body: string): Record<string, unknown> {
  const script = `import { copyEnv, installTraceEnv, setTraceId } from ${JSON.stringify(MODULE)};\n${body}`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH ?? "", _X_AMZN_TRACE_ID: "Root=at-start", KEEP: "kept" },
    encoding: "utf8",
  });
  return JSON.parse(out) as Record<string, unknown>;
}

test("the trace id reads, lists, copies and reaches child processes as a real variable would", () => {
  const seen = run(`
    import { execFileSync } from "node:child_process";
    installTraceEnv();
    const atStart = process.env._X_AMZN_TRACE_ID;
    setTraceId("Root=1-abc;Parent=def;Sampled=0");
    const child = execFileSync(process.execPath, ["-e", "process.stdout.write(process.env._X_AMZN_TRACE_ID ?? 'none')"], { encoding: "utf8" });
    const listed = Object.keys(process.env).includes("_X_AMZN_TRACE_ID");
    const copied = { ...process.env }._X_AMZN_TRACE_ID;
    const plain = copyEnv();
    const plainCopy = [plain._X_AMZN_TRACE_ID, plain.KEEP, Object.keys(plain).length === Object.keys(process.env).length];
    process.env._X_AMZN_TRACE_ID = 42;
    const coerced = process.env._X_AMZN_TRACE_ID;
    delete process.env._X_AMZN_TRACE_ID;
    const gone = ["_X_AMZN_TRACE_ID" in process.env, process.env._X_AMZN_TRACE_ID, Object.keys(process.env).includes("_X_AMZN_TRACE_ID")];
    const childWithout = execFileSync(process.execPath, ["-e", "process.stdout.write(process.env._X_AMZN_TRACE_ID ?? 'none')"], { encoding: "utf8" });
    process.env.OTHER = 7;
    process.stdout.write(JSON.stringify({ atStart, child, listed, copied, plainCopy, coerced, gone, childWithout, keep: process.env.KEEP, other: process.env.OTHER }));
  `);
  assert.deepEqual(seen, {
    atStart: "Root=at-start",
    child: "Root=1-abc;Parent=def;Sampled=0",
    listed: true,
    copied: "Root=1-abc;Parent=def;Sampled=0",
    plainCopy: ["Root=1-abc;Parent=def;Sampled=0", "kept", true],
    coerced: "42",
    gone: [false, null, false],
    childWithout: "none",
    keep: "kept",
    other: "7",
  });
});

test("a function that puts its own object in process.env's place still reads each trace id there", () => {
  const seen = run(`
    installTraceEnv();
    setTraceId("Root=first");
    process.env = { ...process.env, MINE: "yes" };
    setTraceId("Root=second");
    const second = process.env._X_AMZN_TRACE_ID;
    setTraceId(undefined);
    const copied = copyEnv().MINE;
    process.stdout.write(JSON.stringify({ second, cleared: "_X_AMZN_TRACE_ID" in process.env, mine: process.env.MINE, copied }));
  `);
  assert.deepEqual(seen, { second: "Root=second", cleared: false, mine: "yes", copied: "yes" });
});

test("a new trace id per invocation does not grow the process, as setenv's copies do", () => {
  // 200,000 invocations' worth of trace ids, through the proxy and, as a control, through the
  // real environment (glibc keeps every value setenv was given). As many ids are made first
  // and dropped, so that the JavaScript heap has grown to what such garbage takes already.
  const grow = (install: boolean) =>
    run(`
      const set = ${install} ? (installTraceEnv(), setTraceId) : (id) => { process.env._X_AMZN_TRACE_ID = id; };
      const id = (i) => "Root=1-" + i.toString(16).padStart(8, "0") + "-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0";
      let made = 0;
      for (let i = 0; i < 200000; i++) made += id(i).length;
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 200000; i++) set(id(200000 + i));
      process.stdout.write(JSON.stringify({ made, mb: (process.memoryUsage().rss - before) / 1e6 }));
    `).mb as number;
  const viaProxy = grow(true);
  const viaSetenv = grow(false);
  assert.ok(viaSetenv > 15, `the control grows (setenv: +${viaSetenv.toFixed(1)} MB)`);
  assert.ok(
    viaProxy < 5,
    `the proxy does not (+${viaProxy.toFixed(1)} MB, setenv +${viaSetenv.toFixed(1)} MB)`,
  );
});
