/**
 * SQS under kill -9: a real `nimbus up` (bin/nimbus.js, its own data directory, SQLite) takes
 * SendMessage from 32 concurrent clients and is killed with SIGKILL mid-stream, a random 200 to
 * 800 ms into each cycle, then started again on the same data, 10 times. Every MessageId a
 * SendMessage answered is acknowledged; at the end everything is received (and deleted) and the
 * two sets are compared: an acknowledged message never received is lost (the target is 0); one
 * received twice, or stored without its answer reaching the client, is allowed (at least once).
 * Beside it, the send rate under the kill cycles (messages acknowledged over the cycles' whole
 * time, restarts included) and the steady rate of the same clients on the first platform.
 */
import type { ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, startUp } from "./async.js";
import { AwsJson } from "./lib/aws-json.js";
import { type BenchContext, type FigureResult, fmtInt, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { keepAliveAgent } from "./lib/http-client.js";
import { sleep } from "./lib/proc.js";
import { percentile } from "./lib/stats.js";

const QUEUE = "bench-kill";
const KILL_AFTER_MS = [200, 800] as const;
const RECEIVERS = 4;

interface Up {
  readonly child: ChildProcess;
  readonly sqs: AwsJson;
  readonly queueUrl: string;
}

async function start(dataDir: string, ctx: BenchContext): Promise<Up> {
  const up = await startUp(dataDir, ctx.sandbox);
  const sqs = new AwsJson(new URL(up.url), credentials(dataDir), "sqs");
  const agent = keepAliveAgent(1);
  // CreateQueue of an existing queue with the same attributes answers its URL (whose port is this start's).
  const { QueueUrl } = await sqs.call<{ QueueUrl: string }>(agent, "CreateQueue", { QueueName: QUEUE });
  agent.destroy();
  return { child: up.child, sqs, queueUrl: QueueUrl };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r()),
  );
}

/** Senders until `stop()` says so; each answered MessageId goes into `acknowledged`. Resolves once all have stopped. */
async function sendUntil(
  up: Up,
  clients: number,
  stop: () => boolean,
  acknowledged: Set<string>,
): Promise<number> {
  const agent = keepAliveAgent(clients);
  const call = await up.sqs.sign("SendMessage", { QueueUrl: up.queueUrl, MessageBody: "kept?" });
  let answered = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!stop()) {
        try {
          const reply = await up.sqs.send(agent, call);
          if (reply.status !== 200) continue;
          acknowledged.add((JSON.parse(reply.body.toString()) as { MessageId: string }).MessageId);
          answered++;
        } catch {
          // The platform died mid-request: not acknowledged, so not promised.
        }
      }
    }),
  );
  agent.destroy();
  return answered;
}

/** Receives and deletes everything in the queue; the MessageIds received, with repeats. */
async function drain(up: Up): Promise<string[]> {
  const received: string[] = [];
  const agent = keepAliveAgent(RECEIVERS);
  await Promise.all(
    Array.from({ length: RECEIVERS }, async () => {
      for (;;) {
        const { Messages = [] } = await up.sqs.call<{
          Messages?: { MessageId: string; ReceiptHandle: string }[];
        }>(agent, "ReceiveMessage", {
          QueueUrl: up.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 600,
        });
        if (Messages.length === 0) return;
        for (const m of Messages) received.push(m.MessageId);
        await up.sqs.call(agent, "DeleteMessageBatch", {
          QueueUrl: up.queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        });
      }
    }),
  );
  agent.destroy();
  return received;
}

export async function sqsKills(
  ctx: BenchContext,
  o: { cycles: number; clients: number; steadyMs: number },
): Promise<FigureResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-bench-sqs-kill-"));
  chmodSync(dataDir, 0o711);
  const acknowledged = new Set<string>();
  const cycleRates: number[] = [];
  const restartMs: number[] = [];
  let steady = 0;
  let killPhaseMs = 0;
  let killPhaseAcks = 0;
  let received: string[] = [];
  let up: Up | undefined;
  try {
    up = await start(dataDir, ctx);
    // The steady rate, on the first platform: an untimed second (V8 warms up), then the window.
    ctx.progress("sqs kill -9: steady rate");
    let end = performance.now() + 1000;
    await sendUntil(up, o.clients, () => performance.now() >= end, acknowledged);
    end = performance.now() + o.steadyMs;
    const began = performance.now();
    steady =
      (await sendUntil(up, o.clients, () => performance.now() >= end, acknowledged)) /
      ((performance.now() - began) / 1000);
    for (let cycle = 0; cycle < o.cycles; cycle++) {
      ctx.progress(`sqs kill -9: cycle ${cycle + 1}/${o.cycles}`);
      const current: Up = up;
      const cycleStart = performance.now();
      let killed = false;
      const killAt = KILL_AFTER_MS[0] + Math.random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]);
      const timer = setTimeout(() => {
        killed = true;
        current.child.kill("SIGKILL");
      }, killAt);
      const answered = await sendUntil(current, o.clients, () => killed, acknowledged);
      clearTimeout(timer);
      await exited(current.child);
      const killedAt = performance.now();
      up = await start(dataDir, ctx);
      restartMs.push(performance.now() - killedAt);
      const cycleMs = performance.now() - cycleStart;
      cycleRates.push(answered / (cycleMs / 1000));
      killPhaseMs += cycleMs;
      killPhaseAcks += answered;
    }
    ctx.progress("sqs kill -9: receiving everything");
    received = await drain(up);
  } finally {
    if (up && up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
    await sleep(50);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const got = new Set(received);
  const lost = [...acknowledged].filter((id) => !got.has(id)).length;
  const unacknowledged = [...got].filter((id) => !acknowledged.has(id)).length;
  const duplicates = received.length - got.size;
  const underKills = killPhaseAcks / (killPhaseMs / 1000);
  const pass = lost === 0;
  return {
    name: "sqs kill",
    line:
      `lost: ${lost} of ${fmtInt(acknowledged.size)} acknowledged over ${o.cycles} kill -9 restarts | ` +
      `${fmtInt(underKills)} SendMessage/s under the kill cycles vs ${fmtInt(steady)}/s steady ${fmtRatio(underKills / steady)} ` +
      `(target 0 lost) ${verdict(pass)}`,
    notes: [
      `${fmtInt(received.length)} received: ${duplicates} twice, ${unacknowledged} stored whose answer died with the platform (at least once allows both)`,
      `${o.clients} clients, killed ${KILL_AFTER_MS[0]}–${KILL_AFTER_MS[1]} ms into each cycle; restart (kill → answering) ` +
        `p50 ${fmtMs(percentile(restartMs, 50))} ms, worst ${fmtMs(Math.max(...restartMs))} ms; ` +
        `worst cycle ${fmtInt(Math.min(...cycleRates))}/s; a cycle's time counts its restart`,
    ],
    pass,
    data: {
      acknowledged: acknowledged.size,
      received: received.length,
      lost,
      duplicates,
      unacknowledged,
      cycles: o.cycles,
      steadyPerSecond: steady,
      underKillsPerSecond: underKills,
      cyclePerSecond: cycleRates,
      restartMs,
    },
  };
}
