#!/usr/bin/env node
// Bundles the Node runtime into one CommonJS file: it starts about 6 ms faster than the
// multi-file ES module build, and that start is on every cold start's path.
import { writeFileSync } from "node:fs";
import { build } from "esbuild";

// The relay custom runtimes reach their Runtime API through in a jail (relay.ts).
await build({
  entryPoints: ["src/runtime/node/relay.ts"],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  outfile: "dist/runtime/node/relay.cjs",
  logLevel: "warning",
});

await build({
  entryPoints: ["src/runtime/node/bootstrap.ts"],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  outfile: "dist/runtime/node/bootstrap.cjs",
  logLevel: "warning",
});

// The `awslambda` global on its own, bundled ahead of a function built into a snapshot
// (src/worker/snapshot.ts), whose module may use it as it loads, before the runtime starts.
await build({
  entryPoints: ["src/runtime/node/awslambda-global.ts"],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  outfile: "dist/runtime/node/awslambda-global.cjs",
  logLevel: "warning",
});

// Trivial ES module handlers a pooled runtime loads and invokes while it waits for a function:
// the first import() sets up Node's ES module loader (~3 ms), and the loader's and the runtime's
// own code run until they are fast (the second import of a module costs ~1 ms, the fourth
// ~0.4), so that none of it is left for the cold start. Distinct files, as a module loads once.
for (let i = 1; i <= 3; i++)
  writeFileSync(`dist/runtime/node/prewarm-${i}.mjs`, "export const handler = async () => null;\n");
