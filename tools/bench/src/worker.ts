// `npm run bench -- worker [messages=5000] [rounds=4]`: sottod's decrypt-ahead worker on its own, beside bare
// decryption of the same messages in the same process (issue 20). A catch-up runs as fast as this worker, so its
// overhead over `processMessage` is the catch-up's: each round decrypts the messages with bare `processMessage`,
// then through a new worker (its code compiled anew, as in each catch-up) and again through the same worker
// (warm). Nothing else runs, so the figures are steadier than `daemon`'s. Under sottod's node flags, in a
// process of its own. The requests follow apps/daemon/src/decryptAheadProtocol.ts.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { type Conversation, encodeConversation, encryptMessage, processMessage } from "@sotto/core";
import { NODE_FLAGS, programEnv, programPath } from "@sotto/daemon/programs";
import { emit, percentile, round } from "./report.js";
import { buildGroup } from "./support/groups.js";

const workerFile = join(dirname(programPath("sottod")), "decryptAhead.worker.js");

interface Pass {
  readonly ms: number;
  /** CPU of the whole process (all threads) over the pass. */
  readonly cpuMs: number;
}

async function timed(fn: () => Promise<void>): Promise<Pass> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** A two-member group and `count` application messages from one member to the other. */
async function backlog(count: number): Promise<{ receiver: Conversation; messages: Uint8Array[] }> {
  const { creator, member } = await buildGroup(2);
  const data = new TextEncoder().encode(
    JSON.stringify({ type: "Create", object: { type: "Note", content: "<p>a backlog message</p>" } }),
  );
  let sender = creator;
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const sent = await encryptMessage(sender, data);
    sender = sent.conversation;
    messages.push(sent.message);
  }
  return { receiver: member, messages };
}

async function child(count: number, rounds: number): Promise<void> {
  const { receiver, messages } = await backlog(count);
  const published = new Date().toISOString();
  const bare = async () => {
    let state = receiver;
    for (const bytes of messages) {
      const result = await processMessage(state, { bytes, published });
      if (!result.ok || result.value.kind !== "application") throw new Error("bare decryption failed");
      state = result.value.conversation;
    }
  };
  let worker: Worker | undefined;
  let token = 0;
  /** One chain of all the messages through `worker`, fed as the daemon feeds it (a page of 100 per turn). */
  const chain = (target: Worker) => async () => {
    const chainToken = ++token;
    let results = 0;
    let onReplies: (replies: { op: string; ok?: boolean }[]) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      onReplies = (replies) => {
        for (const reply of replies) {
          if (reply.op !== "result") continue;
          if (reply.ok !== true) reject(new Error("the worker failed a message"));
          if (++results === messages.length) resolve();
        }
      };
    });
    target.on("message", onReplies);
    let requests: object[] = [{ op: "start", token: chainToken, state: encodeConversation(receiver) }];
    for (const [seq, bytes] of messages.entries()) {
      requests.push({ op: "message", token: chainToken, seq, bytes, published });
      if (requests.length >= 100) {
        target.postMessage(requests);
        requests = [];
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    target.postMessage(requests);
    await done;
    target.off("message", onReplies);
    target.postMessage([{ op: "stop", token: chainToken }]);
  };
  // This VM's speed moves by half from one second to the next: each round compares its worker passes with the
  // mean of a bare pass just before and one just after them, and the headline is the median of those ratios.
  const ratios: { fresh: number; warm: number }[] = [];
  const idle = new Int32Array(new SharedArrayBuffer(8)).fill(-1);
  for (let r = 0; r < rounds; r++) {
    const before = await timed(bare);
    await worker?.terminate();
    // `AheadWorkerData`: no main thread takes results here (token -1), so the worker verifies every signature
    // itself, as bare decryption does.
    const fresh = new Worker(workerFile, { workerData: { reached: idle } });
    worker = fresh;
    // Loaded (its `ready`) before the clock starts: the load is the daemon's start-up, not this figure.
    await new Promise((resolve) => fresh.once("message", resolve));
    const freshRun = await timed(chain(fresh));
    const warmRun = await timed(chain(fresh));
    const after = await timed(bare);
    const bareMs = (before.ms + after.ms) / 2;
    ratios.push({ fresh: freshRun.ms / bareMs, warm: warmRun.ms / bareMs });
    emit({
      bench: "worker.round",
      messages: messages.length,
      bare_ms: [round(before.ms, 1), round(after.ms, 1)],
      fresh_ms: round(freshRun.ms, 1),
      warm_ms: round(warmRun.ms, 1),
      bare_cpu_ms: [round(before.cpuMs, 1), round(after.cpuMs, 1)],
      fresh_cpu_ms: round(freshRun.cpuMs, 1),
      warm_cpu_ms: round(warmRun.cpuMs, 1),
      fresh_over_bare: round(freshRun.ms / bareMs),
      warm_over_bare: round(warmRun.ms / bareMs),
    });
  }
  await worker?.terminate();
  emit({
    bench: "worker",
    messages: messages.length,
    rounds,
    fresh_over_bare_p50: round(
      percentile(
        ratios.map((r) => r.fresh),
        50,
      ),
    ),
    warm_over_bare_p50: round(
      percentile(
        ratios.map((r) => r.warm),
        50,
      ),
    ),
  });
}

export async function main(args: string[]): Promise<void> {
  if (args[0] === "child") return child(Number(args[1]), Number(args[2]));
  const count = Number(args[0] ?? 5_000);
  const rounds = Number(args[1] ?? 4);
  const run = spawn(
    process.execPath,
    [...NODE_FLAGS, process.argv[1] as string, "worker", "child", String(count), String(rounds)],
    { stdio: "inherit", env: programEnv() },
  );
  const code = await new Promise<number | null>((resolve) => run.once("exit", resolve));
  if (code !== 0) throw new Error(`the worker bench exited with ${code}`);
}
