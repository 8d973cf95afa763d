// sotto-server, each server its own process (`sotto-server run`, as deployed): C2S posts per second accepted by
// bob's outbox on B, and the rate and latency at which those MLS messages arrive in alice's `messages` on A
// (through B's delivery queue and a signed S2S POST), read live over Server-Sent Events. Baseline: a bare
// node:http JSON echo in a child process, same body size and concurrency, measured in the same run. CPU time
// of each process is read from /proc, since a loaded machine distorts wall time more than CPU time.
//   npm run bench -- server [n=400] [concurrency=8]
// With SOTTO_BENCH_PROFILE=<dir>, every server process writes a V8 CPU profile there when it stops.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createConversation, encodeBase64, encryptMessage, generateDeviceIdentity } from "@sotto/core";
import { addUser, freePort, type ServerProcess, startServerProcess } from "@sotto/server/testing";
import { emit, percentile, round } from "./report.js";

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

/** CPU time (user + system) of a child process so far, in ms, from /proc (10 ms resolution). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
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
async function baseline(n: number, concurrency: number, body: string): Promise<Rate & { cpuMs: number }> {
  const child = spawn(process.execPath, ["-e", ECHO], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    const url = `http://127.0.0.1:${port}/`;
    const send = async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await response.arrayBuffer();
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
  /** CPU ms per message of the burst in the sending server (C2S + queue + signed delivery). */
  readonly senderCpuMs: number;
  /** CPU ms per message of the burst in the receiving server (signature check, store, SSE). */
  readonly receiverCpuMs: number;
}

/** Messages sent one at a time, each awaited at the recipient, for the unloaded latency. */
const SINGLE = 50;

/** bob's real MLS PrivateMessages to alice (a one-member group of bob's: nothing is fetched), made untimed. */
async function mlsBodies(bobId: string, aliceId: string, count: number): Promise<string[]> {
  const device = await generateDeviceIdentity(bobId);
  const fetcher = { keyPackagesOf: async () => [] };
  let { conversation } = await createConversation({ device, time: new Date(), fetcher }, { members: [] });
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    const sealed = await encryptMessage(conversation, new TextEncoder().encode(`message ${i}`));
    conversation = sealed.conversation;
    bodies.push(
      JSON.stringify({
        "@context": CONTEXT,
        type: "PrivateMessage",
        to: [aliceId],
        mediaType: "message/mls",
        encoding: "base64",
        content: encodeBase64(sealed.message),
        context: conversation.groupId,
      }),
    );
  }
  return bodies;
}

/** A `sotto-server run` process on a fresh SQLite data dir with one user. */
async function serverWithUser(dir: string, user: string, synchronous: string) {
  const port = await freePort();
  const env = { SOTTO_DATA_DIR: dir, SOTTO_PORT: String(port), SOTTO_SYNCHRONOUS: synchronous };
  const origin = `http://127.0.0.1:${port}`;
  const account = await addUser(env, origin, user);
  const profile = process.env.SOTTO_BENCH_PROFILE;
  const nodeArgs = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`, "--cpu-prof-interval=250"] : [];
  const server = await startServerProcess({ env, nodeArgs });
  return { server, account };
}

/** Two server processes; bob@B posts `n` MLS messages to alice@A, `concurrency` at a time. */
async function scenario(n: number, concurrency: number, synchronous: "full" | "normal"): Promise<Figures> {
  const dirs = [mkdtempSync(join(tmpdir(), "sotto-bench-a-")), mkdtempSync(join(tmpdir(), "sotto-bench-b-"))];
  const servers: ServerProcess[] = [];
  try {
    const a = await serverWithUser(dirs[0] as string, "alice", synchronous);
    servers.push(a.server);
    const b = await serverWithUser(dirs[1] as string, "bob", synchronous);
    servers.push(b.server);
    const alice = a.account;
    const bob = b.account;
    const bodies = await mlsBodies(bob.actorId, alice.actorId, n + SINGLE + 1);
    const post = async (body: string): Promise<string> => {
      const response = await fetch(`${bob.actorId}/outbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json", authorization: `Bearer ${bob.token}` },
        body,
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`outbox answered ${response.status}`);
      return response.headers.get("location") as string;
    };
    const stream = await arrivals(`${alice.actorId}/messages`, alice.token, 300_000);
    try {
      // Warm-up: B resolves (and caches) alice's actor, A caches bob's key.
      await stream.arrived(await post(bodies[0] as string));
      // A burst: n posts, `concurrency` at a time; one sender's deliveries go one after another, in order.
      const postedAt = new Map<string, number>();
      const cpu = [a.server.cpuMs(), b.server.cpuMs()];
      const start = performance.now();
      const postLatencies = await pool(n, concurrency, async (i) => {
        const t = performance.now();
        postedAt.set(await post(bodies[i + 1] as string), t);
      });
      const postsMs = performance.now() - start;
      const arrived = await Promise.all([...postedAt.keys()].map((id) => stream.arrived(id)));
      const burstMs = Math.max(...arrived) - start;
      const receiverCpuMs = (a.server.cpuMs() - (cpu[0] as number)) / n;
      const senderCpuMs = (b.server.cpuMs() - (cpu[1] as number)) / n;
      const delivery = [...postedAt].map(([id, t]) => (stream.seen.get(id) as number) - t);
      // One at a time: the latency of a single message from POST to the recipient's SSE stream.
      const single: number[] = [];
      const singleStart = performance.now();
      for (let i = 0; i < SINGLE; i++) {
        const t = performance.now();
        single.push((await stream.arrived(await post(bodies[n + 1 + i] as string))) - t);
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
    for (const server of servers) await server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 400);
  const concurrency = Number(args[1] ?? 8);
  const load = () => round(loadavg()[0] as number, 1);
  const sample = JSON.stringify({ "@context": CONTEXT, type: "PrivateMessage", content: "x".repeat(600) });
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

  const results: Record<string, Figures> = {};
  for (const synchronous of ["full", "normal"] as const) {
    const f = await scenario(n, concurrency, synchronous);
    results[synchronous] = f;
    const backend = `sqlite synchronous=${synchronous}`;
    emit({
      bench: "server",
      case: `C2S outbox POST accepted (201), ${backend}`,
      n,
      concurrency,
      perSecond: round(f.posts.perSecond, 1),
      p50Ms: round(f.posts.p50),
      p99Ms: round(f.posts.p99),
      vsEcho: round(f.posts.perSecond / base.perSecond),
    });
    emit({
      bench: "server",
      case: `burst from one sender to one remote server, POST to SSE, ${backend}`,
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
      case: `one message at a time, POST to remote SSE, ${backend}`,
      n: SINGLE,
      perSecond: round(f.single.perSecond, 1),
      p50Ms: round(f.single.p50),
      p99Ms: round(f.single.p99),
    });
  }
  const full = results.full as Figures;
  emit({
    bench: "server",
    headline: true,
    backend: "sqlite synchronous=full",
    postsPerSecond: round(full.posts.perSecond, 1),
    burstDeliveredPerSecond: round(full.burst.perSecond, 1),
    burstDeliveryP50Ms: round(full.burst.p50),
    burstDeliveryP99Ms: round(full.burst.p99),
    singleDeliveryP50Ms: round(full.single.p50),
    singleDeliveryP99Ms: round(full.single.p99),
    senderCpuMsPerMessage: round(full.senderCpuMs, 2),
    receiverCpuMsPerMessage: round(full.receiverCpuMs, 2),
    baselineEchoPerSecond: round(base.perSecond, 1),
    echoServerCpuMsPerRequest: round(base.cpuMs, 3),
    postsVsEcho: round(full.posts.perSecond / base.perSecond),
    normalBurstDeliveredPerSecond: round((results.normal as Figures).burst.perSecond, 1),
    load: load(),
  });
}
