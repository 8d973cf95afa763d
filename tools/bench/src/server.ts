// sotto-server, each server its own process (`sotto-server run`, as deployed): C2S posts per second accepted by
// bob's outbox on B, and the rate and latency at which those MLS messages arrive in alice's `messages` on A
// (through B's delivery queue and a signed S2S POST), read live over Server-Sent Events. Baseline: a bare
// node:http JSON echo in a child process, same body size and concurrency, measured in the same run. CPU time
// of each process is read from /proc, since a loaded machine distorts wall time more than CPU time. The client
// (posts and the echo's requests alike) is sottod's own, @sotto/activitypub's `Http`.
// Cases: SQLite (synchronous full and normal) as one process; MariaDB as one process, and as a web process
// with 1 and with 2 worker processes (4 senders there, since one sender's deliveries go one after another).
//   npm run bench -- server [n=400] [concurrency=8] [cases=all|sqlite|mariadb]
// With SOTTO_BENCH_PROFILE=<dir>, every server process writes a V8 CPU profile there when it stops.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Http } from "@sotto/activitypub";
import { createConversation, encodeBase64, encryptMessage, generateDeviceIdentity } from "@sotto/core";
import {
  addUser,
  dropDatabases,
  ensureMariadb,
  freePort,
  freshDatabase,
  type ProcessUser,
  processCpuMs,
  type ServerProcess,
  startServerProcess,
} from "@sotto/server/testing";
import { emit, percentile, profileArgs, round } from "./report.js";

/** sottod's HTTP client, for the posts and the echo alike. */
const client = new Http({ allowPrivateAddress: true });

const CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://purl.archive.org/socialweb/mls"];

/** Runs `n` tasks with `concurrency` in flight; answers each task's latency in ms. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const latencies = new Array<number>(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const t = performance.now();
      await task(i);
      latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

const ECHO = `const http = require("node:http");
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(parsed));
  });
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));`;

interface Rate {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function rate(n: number, ms: number, latencies: readonly number[]): Rate {
  return { perSecond: n / (ms / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** A bare node:http echo in its own process: the floor for one HTTP round trip with this body. */
async function baseline(n: number, concurrency: number, json: object): Promise<Rate & { cpuMs: number }> {
  const child = spawn(process.execPath, ["-e", ECHO], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    const url = `http://127.0.0.1:${port}/`;
    const send = async () => {
      await client.json(url, { method: "POST", json });
    };
    await pool(50, concurrency, send); // warm-up
    const cpu = processCpuMs(child.pid as number);
    const start = performance.now();
    const latencies = await pool(n, concurrency, send);
    const ms = performance.now() - start;
    return { ...rate(n, ms, latencies), cpuMs: (processCpuMs(child.pid as number) - cpu) / n };
  } finally {
    child.kill("SIGTERM");
  }
}

/** Records when each item arrives on an SSE stream; `arrived(id)` waits (bounded) for one. */
async function arrivals(url: string, token: string, timeoutMs: number) {
  const seen = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
    signal: abort.signal,
  });
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body ?? []) {
      buffer += decoder.decode(chunk, { stream: true });
      const end = buffer.lastIndexOf("\n");
      for (const m of buffer.slice(0, end + 1).matchAll(/^id: (.*)$/gm)) {
        const id = m[1] as string;
        if (!seen.has(id)) seen.set(id, performance.now());
        waiters.get(id)?.();
      }
      buffer = buffer.slice(end + 1);
    }
  })().catch(() => undefined); // aborted at close or at the deadline
  return {
    seen,
    arrived: (id: string): Promise<number> =>
      seen.has(id)
        ? Promise.resolve(seen.get(id) as number)
        : new Promise<number>((resolve, reject) => {
            waiters.set(id, () => resolve(seen.get(id) as number));
            abort.signal.addEventListener("abort", () => reject(new Error(`${id} never arrived`)));
          }),
    close: async () => {
      clearTimeout(timer);
      abort.abort();
      await reading;
    },
  };
}

interface Figures {
  readonly posts: Rate;
  readonly burst: Rate;
  readonly single: Rate;
  /** CPU ms per message of the burst in the sending server's processes (C2S + queue + signed delivery). */
  readonly senderCpuMs: number;
  /** CPU ms per message of the burst in the receiving server (signature check, store, SSE). */
  readonly receiverCpuMs: number;
}

/** Messages sent one at a time, each awaited at the recipient, for the unloaded latency. */
const SINGLE = 50;

/** Real MLS PrivateMessages from `senderId` to `aliceId` (a one-member group: nothing is fetched), made untimed. */
async function mlsBodies(senderId: string, aliceId: string, count: number): Promise<object[]> {
  const device = await generateDeviceIdentity(senderId);
  const fetcher = { keyPackagesOf: async () => [] };
  let { conversation } = await createConversation({ device, time: new Date(), fetcher }, { members: [] });
  const bodies: object[] = [];
  for (let i = 0; i < count; i++) {
    const sealed = await encryptMessage(conversation, new TextEncoder().encode(`message ${i}`));
    conversation = sealed.conversation;
    bodies.push({
      "@context": CONTEXT,
      type: "PrivateMessage",
      to: [aliceId],
      mediaType: "message/mls",
      encoding: "base64",
      content: encodeBase64(sealed.message),
      context: conversation.groupId,
    });
  }
  return bodies;
}

/** Where a server keeps its data, and how it runs: one process, or a web process and `workers` workers. */
interface Setup {
  readonly backend: "sqlite" | "mariadb";
  readonly synchronous?: "full" | "normal";
  /** 0: one process doing both (role all); else one web process and this many worker processes. */
  readonly workers: number;
  /** Senders on the sending server, each its own ordering key (deliveries of one go one after another). */
  readonly senders: number;
}

function label(setup: Setup): string {
  const where = setup.backend === "sqlite" ? `sqlite synchronous=${setup.synchronous}` : "mariadb";
  const how =
    setup.workers === 0 ? "one process" : `web + ${setup.workers} worker${setup.workers > 1 ? "s" : ""}`;
  return `${where}, ${how}, ${setup.senders} sender${setup.senders > 1 ? "s" : ""}`;
}

/** A server (one or several `sotto-server run` processes) on fresh storage, with `users`. */
async function startServerOf(setup: Setup, users: readonly string[]) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-"));
  const env: Record<string, string> =
    setup.backend === "sqlite"
      ? { SOTTO_DATA_DIR: dir, SOTTO_SYNCHRONOUS: setup.synchronous ?? "full" }
      : { SOTTO_DATABASE: await freshDatabase(), SOTTO_ORIGIN: origin };
  const accounts = [];
  for (const user of users) accounts.push(await addUser({ ...env, SOTTO_PORT: String(port) }, origin, user));
  const processes: ServerProcess[] = [];
  const nodeArgs = profileArgs();
  try {
    processes.push(
      await startServerProcess({
        env: { ...env, SOTTO_PORT: String(port) },
        nodeArgs,
        runArgs: setup.workers === 0 ? [] : ["--role", "web"],
      }),
    );
    for (let i = 0; i < setup.workers; i++) {
      processes.push(await startServerProcess({ env, nodeArgs, runArgs: ["--role", "worker"] }));
    }
  } catch (error) {
    for (const p of processes) await p.stop();
    throw error;
  }
  return {
    accounts,
    cpuMs: () => processes.reduce((sum, p) => sum + p.cpuMs(), 0),
    async stop() {
      for (const p of processes) await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** alice on one server; the senders on another (set up as `setup`) post `n` MLS messages to her. */
async function scenario(n: number, concurrency: number, setup: Setup): Promise<Figures> {
  const receiving = { ...setup, workers: 0, senders: 1 };
  const senders = Array.from({ length: setup.senders }, (_, i) => `bob${i}`);
  const a = await startServerOf(receiving, ["alice"]);
  let b: Awaited<ReturnType<typeof startServerOf>> | undefined;
  try {
    b = await startServerOf(setup, senders);
    const alice = a.accounts[0] as ProcessUser;
    const bobs = b.accounts;
    const perSender = Math.ceil((n + SINGLE + 1) / bobs.length) + 1;
    const bodies = await Promise.all(bobs.map((bob) => mlsBodies(bob.actorId, alice.actorId, perSender)));
    const used = bobs.map(() => 0);
    // Message i comes from sender i % senders, each sender's in its own order.
    const post = async (i: number): Promise<string> => {
      const s = i % bobs.length;
      const bob = bobs[s] as ProcessUser;
      const k = used[s] ?? 0;
      used[s] = k + 1;
      const json = (bodies[s] as object[])[k];
      const response = await client.json(`${bob.actorId}/outbox`, { method: "POST", token: bob.token, json });
      if (response.status !== 201) throw new Error(`outbox answered ${response.status}`);
      return response.headers.get("location") as string;
    };
    const stream = await arrivals(`${alice.actorId}/messages`, alice.token, 600_000);
    try {
      // Warm-up: each sender's server resolves (and caches) alice's actor, A caches each sender's key.
      for (let i = 0; i < bobs.length; i++) await stream.arrived(await post(i));
      // A burst: n posts, `concurrency` at a time; one sender's deliveries go one after another, in order.
      const postedAt = new Map<string, number>();
      const cpu = [a.cpuMs(), b.cpuMs()];
      const start = performance.now();
      const postLatencies = await pool(n, concurrency, async (i) => {
        const t = performance.now();
        postedAt.set(await post(i), t);
      });
      const postsMs = performance.now() - start;
      const arrived = await Promise.all([...postedAt.keys()].map((id) => stream.arrived(id)));
      const burstMs = Math.max(...arrived) - start;
      const receiverCpuMs = (a.cpuMs() - (cpu[0] as number)) / n;
      const senderCpuMs = (b.cpuMs() - (cpu[1] as number)) / n;
      const delivery = [...postedAt].map(([id, t]) => (stream.seen.get(id) as number) - t);
      // One at a time: the latency of a single message from POST to the recipient's SSE stream.
      const single: number[] = [];
      const singleStart = performance.now();
      for (let i = 0; i < SINGLE; i++) {
        const t = performance.now();
        single.push((await stream.arrived(await post(i))) - t);
      }
      return {
        posts: rate(n, postsMs, postLatencies),
        burst: rate(n, burstMs, delivery),
        single: rate(SINGLE, performance.now() - singleStart, single),
        senderCpuMs,
        receiverCpuMs,
      };
    } finally {
      await stream.close();
    }
  } finally {
    await b?.stop();
    await a.stop();
  }
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 400);
  const concurrency = Number(args[1] ?? 8);
  // Only one back end's cases, for short profiling runs; the headline figures are the whole run's.
  const only = args[2] === "sqlite" || args[2] === "mariadb" ? args[2] : undefined;
  const load = () => round(loadavg()[0] as number, 1);
  const sample = { "@context": CONTEXT, type: "PrivateMessage", content: "x".repeat(600) };
  const base = await baseline(n, concurrency, sample);
  emit({
    bench: "server",
    case: "baseline node:http JSON echo (own process)",
    n,
    concurrency,
    perSecond: round(base.perSecond, 1),
    p50Ms: round(base.p50),
    p99Ms: round(base.p99),
    serverCpuMsPerRequest: round(base.cpuMs, 3),
    load: load(),
  });

  const setups: Setup[] =
    only === "mariadb"
      ? []
      : [
          { backend: "sqlite", synchronous: "full", workers: 0, senders: 1 },
          { backend: "sqlite", synchronous: "normal", workers: 0, senders: 1 },
        ];
  // MariaDB on 127.0.0.1:3306 (installed and started when missing and running as root).
  const mariadb =
    only !== "sqlite" &&
    (await ensureMariadb().then(
      () => true,
      (error: unknown) => {
        emit({ bench: "server", skipped: "mariadb", reason: (error as Error).message });
        return false;
      },
    ));
  if (mariadb) {
    setups.push(
      { backend: "mariadb", workers: 0, senders: 1 },
      // Workers deliver different senders' activities in parallel (one sender's go one after another).
      { backend: "mariadb", workers: 1, senders: 4 },
      { backend: "mariadb", workers: 2, senders: 4 },
    );
  }
  const results: [Setup, Figures][] = [];
  try {
    for (const setup of setups) {
      const f = await scenario(n, concurrency, setup);
      results.push([setup, f]);
      const where = label(setup);
      emit({
        bench: "server",
        case: `C2S outbox POST accepted (201), ${where}`,
        n,
        concurrency,
        perSecond: round(f.posts.perSecond, 1),
        p50Ms: round(f.posts.p50),
        p99Ms: round(f.posts.p99),
        vsEcho: round(f.posts.perSecond / base.perSecond),
      });
      emit({
        bench: "server",
        case: `burst to one remote server, POST to SSE, ${where}`,
        n,
        perSecond: round(f.burst.perSecond, 1),
        p50Ms: round(f.burst.p50),
        p99Ms: round(f.burst.p99),
        senderCpuMsPerMessage: round(f.senderCpuMs, 2),
        receiverCpuMsPerMessage: round(f.receiverCpuMs, 2),
        load: load(),
      });
      emit({
        bench: "server",
        case: `one message at a time, POST to remote SSE, ${where}`,
        n: SINGLE,
        perSecond: round(f.single.perSecond, 1),
        p50Ms: round(f.single.p50),
        p99Ms: round(f.single.p99),
      });
    }
  } finally {
    if (mariadb) await dropDatabases();
  }
  const headline: Record<string, unknown> = {
    bench: "server",
    headline: true,
    baselineEchoPerSecond: round(base.perSecond, 1),
    echoServerCpuMsPerRequest: round(base.cpuMs, 3),
  };
  for (const [setup, f] of results) {
    const key = `${setup.backend}${setup.synchronous === "normal" ? "Normal" : ""}${setup.workers === 0 ? "" : `${setup.workers}Workers`}`;
    headline[`${key}PostsPerSecond`] = round(f.posts.perSecond, 1);
    headline[`${key}BurstPerSecond`] = round(f.burst.perSecond, 1);
    headline[`${key}BurstP50Ms`] = round(f.burst.p50);
    headline[`${key}BurstP99Ms`] = round(f.burst.p99);
    headline[`${key}SenderCpuMs`] = round(f.senderCpuMs, 2);
  }
  headline.load = load();
  emit(headline);
}
