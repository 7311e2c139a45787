/**
 * The Runtime API relay for custom runtimes in a sandbox with a network of its own (the jail):
 * such a runtime reaches AWS_LAMBDA_RUNTIME_API (host:port) on its own loopback, where nothing
 * of the host's is. This process listens there, forwards every connection to the instance's
 * Runtime API socket (NIMBUS_RUNTIME_API_HTTP_SOCKET, in the directory only this sandbox
 * sees), starts the runtime's `bootstrap` (its argument) once it listens, and exits as the
 * runtime exits. It runs alone in the sandbox and imports only Node's own modules.
 */
import { spawn } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { constants } from "node:os";

const [bootstrap, ...args] = process.argv.slice(2);
const api = process.env.AWS_LAMBDA_RUNTIME_API ?? "";
const socketPath = process.env.NIMBUS_RUNTIME_API_HTTP_SOCKET ?? "";
const colon = api.lastIndexOf(":");
if (!bootstrap || colon < 0 || !socketPath) {
  process.stderr.write(
    "relay: needs a bootstrap, AWS_LAMBDA_RUNTIME_API and NIMBUS_RUNTIME_API_HTTP_SOCKET\n",
  );
  process.exit(2);
}

const pipe = (a: Socket, b: Socket) => {
  a.pipe(b);
  b.pipe(a);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.on("close", () => b.destroy());
  b.on("close", () => a.destroy());
};

const server = createServer({ noDelay: true }, (client) => pipe(client, connect(socketPath)));
server.listen(Number(api.slice(colon + 1)), api.slice(0, colon), () => {
  const env = { ...process.env };
  delete env.NIMBUS_RUNTIME_API_HTTP_SOCKET;
  const child = spawn(bootstrap, args, { stdio: "inherit", env });
  child.on("error", (err: NodeJS.ErrnoException) => {
    process.stderr.write(`relay: could not start ${bootstrap}: ${err.code ?? err.message}\n`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    // The runtime's own end, as its exit status (a signal as 128 + its number).
    process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
  });
});
