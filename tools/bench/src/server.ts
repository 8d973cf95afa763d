// sotto-server: C2S posts per second accepted by bob's outbox on B, and the rate and latency at which those
// MLS messages arrive in alice's `messages` collection on A (through Fedify's queue and a signed S2S POST),
// read live over Server-Sent Events. Baseline: a bare node:http JSON echo round trip with the same body size
// and concurrency, measured in the same run.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConversation, encodeBase64, encryptMessage, generateDeviceIdentity } from "@sotto/core";
import { startServer } from "@sotto/server";
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

async function baseline(
  n: number,
  concurrency: number,
  body: string,
): Promise<{ perSecond: number; p50: number; cpuMs: number }> {
  const echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(parsed));
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
  try {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const latencies = await pool(n, concurrency, async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await response.arrayBuffer();
    });
    return {
      perSecond: n / ((performance.now() - start) / 1000),
      p50: percentile(latencies, 50),
      cpuMs: cpuMs(cpuStart) / n,
    };
  } finally {
    echo.closeAllConnections();
    await new Promise((resolve) => echo.close(resolve));
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
      for (const m of buffer.matchAll(/^id: (.*)$/gm)) {
        const id = m[1] as string;
        if (!seen.has(id)) seen.set(id, performance.now());
        waiters.get(id)?.();
      }
      buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
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
  readonly postsPerSecond: number;
  readonly postP50Ms: number;
  readonly postP99Ms: number;
  readonly deliveredPerSecond: number;
  readonly deliveryP50Ms: number;
  readonly deliveryP99Ms: number;
  readonly singleP50Ms: number;
  readonly singleP99Ms: number;
  /** Process CPU time (both servers and the client) per message of the burst, post to arrival. */
  readonly burstCpuMs: number;
}

/** CPU time (user + system) this process spent since `since`, in ms: steadier than wall time on a loaded host. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

/** Messages sent one at a time, each awaited at the recipient, for the unloaded latency. */
const SINGLE = 50;

/** Two fresh servers on loopback; bob@B posts `n` MLS messages to alice@A, `concurrency` at a time. */
async function scenario(n: number, concurrency: number, synchronous: "full" | "normal"): Promise<Figures> {
  const dirs = [mkdtempSync(join(tmpdir(), "sotto-bench-a-")), mkdtempSync(join(tmpdir(), "sotto-bench-b-"))];
  const a = await startServer({ dataDir: dirs[0] as string, synchronous });
  const b = await startServer({ dataDir: dirs[1] as string, synchronous });
  try {
    const alice = await a.createUser("alice");
    const bob = await b.createUser("bob");

    // Real MLS PrivateMessages (a one-member group of bob's; nobody is invited, so nothing is fetched),
    // made before timing starts.
    const device = await generateDeviceIdentity(bob.actorId);
    const fetcher = { keyPackagesOf: async () => [] };
    let { conversation } = await createConversation({ device, time: new Date(), fetcher }, { members: [] });
    const bodies: string[] = [];
    for (let i = 0; i <= n + SINGLE; i++) {
      const sealed = await encryptMessage(conversation, new TextEncoder().encode(`message ${i}`));
      conversation = sealed.conversation;
      bodies.push(
        JSON.stringify({
          "@context": CONTEXT,
          type: "PrivateMessage",
          to: [alice.actorId],
          mediaType: "message/mls",
          encoding: "base64",
          content: encodeBase64(sealed.message),
          context: conversation.groupId,
        }),
      );
    }
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
    // Warm-up: B resolves (and caches) alice's actor, both queues start.
    await post(bodies[0] as string);

    const stream = await arrivals(`${alice.actorId}/messages`, alice.token, 180_000);
    try {
      // A burst: n posts, `concurrency` at a time; deliveries queue up behind each other (one sender's
      // activities are delivered in order).
      const postedAt = new Map<string, number>();
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const latencies = await pool(n, concurrency, async (i) => {
        const t = performance.now();
        postedAt.set(await post(bodies[i + 1] as string), t);
      });
      const postsPerSecond = n / ((performance.now() - start) / 1000);
      const arrived = await Promise.all([...postedAt.keys()].map((id) => stream.arrived(id)));
      const delivery = [...postedAt].map(([id, t]) => (stream.seen.get(id) as number) - t);
      const deliveredPerSecond = n / ((Math.max(...arrived) - start) / 1000);
      const burstCpuMs = cpuMs(cpuStart) / n;
      // One at a time: the latency of a single message from POST to the recipient's SSE stream.
      const single: number[] = [];
      for (let i = 0; i < SINGLE; i++) {
        const t = performance.now();
        single.push((await stream.arrived(await post(bodies[n + 1 + i] as string))) - t);
      }
      return {
        postsPerSecond,
        postP50Ms: percentile(latencies, 50),
        postP99Ms: percentile(latencies, 99),
        deliveredPerSecond,
        deliveryP50Ms: percentile(delivery, 50),
        deliveryP99Ms: percentile(delivery, 99),
        singleP50Ms: percentile(single, 50),
        singleP99Ms: percentile(single, 99),
        burstCpuMs,
      };
    } finally {
      await stream.close();
    }
  } finally {
    await a.close();
    await b.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 400);
  const concurrency = Number(args[1] ?? 8);
  const sample = JSON.stringify({ "@context": CONTEXT, type: "PrivateMessage", content: "x".repeat(600) });
  const base = await baseline(n, concurrency, sample);
  emit({
    bench: "server",
    case: "baseline node:http JSON echo",
    n,
    concurrency,
    perSecond: round(base.perSecond, 1),
    p50Ms: round(base.p50),
    cpuMsPerRequest: round(base.cpuMs, 3),
  });

  const results: Record<string, Figures> = {};
  for (const synchronous of ["full", "normal"] as const) {
    const f = await scenario(n, concurrency, synchronous);
    results[synchronous] = f;
    emit({
      bench: "server",
      case: `C2S outbox POST accepted (201), synchronous=${synchronous}`,
      n,
      concurrency,
      perSecond: round(f.postsPerSecond, 1),
      p50Ms: round(f.postP50Ms),
      p99Ms: round(f.postP99Ms),
    });
    emit({
      bench: "server",
      case: `burst delivered into remote messages (SSE), synchronous=${synchronous}`,
      n,
      perSecond: round(f.deliveredPerSecond, 1),
      cpuMsPerMessage: round(f.burstCpuMs, 3),
      p50Ms: round(f.deliveryP50Ms),
      p99Ms: round(f.deliveryP99Ms),
    });
    emit({
      bench: "server",
      case: `one message at a time, POST to remote SSE, synchronous=${synchronous}`,
      n: SINGLE,
      p50Ms: round(f.singleP50Ms),
      p99Ms: round(f.singleP99Ms),
    });
  }
  const full = results.full as Figures;
  emit({
    bench: "server",
    headline: true,
    synchronous: "full",
    postsPerSecond: round(full.postsPerSecond, 1),
    deliveredPerSecond: round(full.deliveredPerSecond, 1),
    burstDeliveryP50Ms: round(full.deliveryP50Ms),
    burstDeliveryP99Ms: round(full.deliveryP99Ms),
    singleDeliveryP50Ms: round(full.singleP50Ms),
    singleDeliveryP99Ms: round(full.singleP99Ms),
    burstCpuMsPerMessage: round(full.burstCpuMs, 3),
    burstCpuVsEcho: round(full.burstCpuMs / base.cpuMs, 1),
    baselineEchoPerSecond: round(base.perSecond, 1),
    postsVsEcho: round(full.postsPerSecond / base.perSecond),
    deliveredVsEcho: round(full.deliveredPerSecond / base.perSecond),
    normalDeliveredPerSecond: round((results.normal as Figures).deliveredPerSecond, 1),
  });
}
