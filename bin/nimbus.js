#!/usr/bin/env node
// The nimbus command. The TypeScript sources are compiled to dist/ by `npm run build`.
// Node runs this file from its real path, symlinks resolved (npm link, npm install -g, a link
// of your own on the PATH), so dist/ is found next to the checkout from any directory.
const MAIN = new URL("../dist/src/cli/main.js", import.meta.url);

let main;
try {
  ({ main } = await import(MAIN.href));
} catch (err) {
  if (err?.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes(MAIN.pathname)) {
    const checkout = new URL("..", import.meta.url).pathname;
    console.error(`error: nimbus is not built: run \`npm install && npm run build\` in ${checkout}`);
    process.exit(1);
  }
  throw err;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
