/**
 * `nimbus dev --template` (and `deploy --template --watch`): deploys the stack, then again
 * after each change to the template or a function's CodeUri directory, debounced, one deploy
 * at a time, until the signal aborts (Ctrl-C).
 */
import { type FSWatcher, watch } from "node:fs";
import { resolve } from "node:path";
import type { NimbusClient } from "../client.js";
import type { Output } from "../context.js";
import { deployStack, type StackOptions } from "./deploy-stack.js";

/** Editors write a file in several steps (truncate, write, rename): one deploy for a burst of events. */
export const WATCH_DEBOUNCE_MS = 300;

export async function watchStack(
  client: NimbusClient,
  o: StackOptions,
  out: { stdout: Output; stderr: Output },
  signal: AbortSignal,
): Promise<number> {
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const close = () => {
    for (const w of watchers) w.close();
    watchers = [];
  };

  const deploy = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const { stack } = await deployStack(client, o, out);
      // A changed template may name other CodeUri directories: watch what it names now.
      const paths = new Set([resolve(o.template), ...(stack?.functions.map((f) => f.codeDir) ?? [])]);
      close();
      for (const path of paths) {
        try {
          watchers.push(watch(path, { recursive: path !== resolve(o.template) }, schedule));
        } catch (err) {
          out.stderr.write(`warning: cannot watch ${path}: ${(err as Error).message}\n`);
        }
      }
    } catch (err) {
      out.stderr.write(`error: ${(err as Error).message}\n`);
    } finally {
      running = false;
    }
    if (again && !signal.aborted) {
      again = false;
      await deploy();
    } else if (!signal.aborted) out.stdout.write("watching for changes (Ctrl-C stops)\n");
  };

  function schedule(): void {
    if (signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => void deploy(), WATCH_DEBOUNCE_MS);
  }

  await deploy();
  await new Promise<void>((done) => {
    if (signal.aborted) return done();
    signal.addEventListener("abort", () => done(), { once: true });
  });
  clearTimeout(timer);
  close();
  return 0;
}
