// Measures the runtime's share of a cold start: from spawn to the first GET /next reaching a
// Runtime API server, with a clean environment, against `node -e 0` (spawn to exit).
// Usage: node dist/src/runtime/node/measure-startup.js [runs] [bootstrap file…]
// e.g. a CommonJS bundle built with
//   npx esbuild src/runtime/node/bootstrap.ts --bundle --platform=node --format=cjs --outfile=/tmp/bootstrap.cjs
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = resolve(here, "../../../../test/fixtures/node-handlers");
const HANDLERS = [
  { name: "CommonJS handler", taskRoot: join(FIXTURES, "async-cjs") },
  { name: "ES module handler", taskRoot: join(FIXTURES, "esm-mjs") },
];

interface Case {
  name: string;
  /** Resolves with the milliseconds from spawn to the moment that counts for this case. */
  run(): Promise<number>;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 31);
  const bootstraps = process.argv.slice(3).map((file) => resolve(file));
  if (bootstraps.length === 0) bootstraps.push(join(here, "bootstrap.js"));

  let onNext: (() => void) | undefined;
  const server = createServer((req, res) => {
    // Hold /next open like a real long poll; the measured process is killed right after.
    if (req.url?.endsWith("/invocation/next")) onNext?.();
    else res.writeHead(202).end("{}");
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;

  const cases: Case[] = [{ name: "node -e 0 (spawn to exit)", run: () => timeToExit(["-e", "0"]) }];
  for (const bootstrap of bootstraps) {
    for (const handler of HANDLERS) {
      cases.push({
        name: `${bootstrap.split("/").pop()} + ${handler.name} (spawn to first /next)`,
        run: () =>
          new Promise<number>((done, fail) => {
            const start = performance.now();
            const child = spawn(process.execPath, [bootstrap], {
              stdio: "ignore",
              env: {
                AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
                _HANDLER: "index.handler",
                LAMBDA_TASK_ROOT: handler.taskRoot,
              },
            });
            onNext = () => {
              done(performance.now() - start);
              child.kill("SIGKILL");
            };
            child.on("exit", (code) => fail(new Error(`${bootstrap} exited with ${code} before /next`)));
          }),
      });
    }
  }

  // Round-robin so that machine noise spreads over every case alike.
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      samples.get(c)?.push(await c.run());
      await new Promise((settle) => setTimeout(settle, 5));
    }
  }
  for (const [c, values] of samples) {
    values.sort((a, b) => a - b);
    const at = (q: number) => (values[Math.floor(q * (values.length - 1))] ?? Number.NaN).toFixed(1);
    console.log(`${c.name.padEnd(70)} median ${at(0.5)} ms  p10 ${at(0.1)}  p90 ${at(0.9)}`);
  }
  server.closeAllConnections();
  server.close();
}

function timeToExit(args: string[]): Promise<number> {
  return new Promise((done) => {
    const start = performance.now();
    spawn(process.execPath, args, { stdio: "ignore", env: {} }).on("exit", () =>
      done(performance.now() - start),
    );
  });
}

await main();
