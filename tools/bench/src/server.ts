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
): Promise<{ perSecond: number; p50: number }> {
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
    const start = performance.now();
    const latencies = await pool(n, concurrency, async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await response.arrayBuffer();
    });
    return { perSecond: n / ((performance.now() - start) / 1000), p50: percentile(latencies, 50) };
  } finally {
    echo.closeAllConnections();
    await new Promise((resolve) => echo.close(resolve));
  }
}

/** Collects `id` → arrival time from an SSE stream until `count` of the `ids` arrived or `timeoutMs` passed. */
function arrivals(url: string, token: string, ids: Set<string>, count: number, timeoutMs: number) {
  const seen = new Map<string, number>();
  const abort = new AbortController();
  let opened: () => void = () => {};
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const done = (async () => {
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await fetch(url, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
        signal: abort.signal,
      });
      opened();
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of response.body ?? []) {
        buffer += decoder.decode(chunk, { stream: true });
        for (const m of buffer.matchAll(/^id: (.*)$/gm)) {
          const id = m[1] as string;
          if (ids.has(id) && !seen.has(id)) seen.set(id, performance.now());
        }
        buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
        if (seen.size >= count) break;
      }
    } catch {
      // aborted at the deadline: report what arrived
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return seen;
  })();
  return { open, done };
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 400);
  const concurrency = Number(args[1] ?? 8);
  const dirs = [mkdtempSync(join(tmpdir(), "sotto-bench-a-")), mkdtempSync(join(tmpdir(), "sotto-bench-b-"))];
  const a = await startServer({ dataDir: dirs[0] as string });
  const b = await startServer({ dataDir: dirs[1] as string });
  try {
    const alice = await a.createUser("alice");
    const bob = await b.createUser("bob");

    // Real MLS PrivateMessages (a one-member group of bob's; nobody is invited, so nothing is fetched),
    // made before timing starts.
    const device = await generateDeviceIdentity(bob.actorId);
    const fetcher = { keyPackagesOf: async () => [] };
    let { conversation } = await createConversation({ device, time: new Date(), fetcher }, { members: [] });
    const bodies: string[] = [];
    for (let i = 0; i <= n; i++) {
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

    const base = await baseline(n, concurrency, bodies[1] as string);
    emit({
      bench: "server",
      case: "baseline node:http JSON echo",
      n,
      concurrency,
      perSecond: round(base.perSecond, 1),
      p50Ms: round(base.p50),
    });

    const expected = new Set<string>();
    const postedAt = new Map<string, number>();
    const stream = arrivals(`${alice.actorId}/messages`, alice.token, expected, n, 120_000);
    await stream.open;
    const start = performance.now();
    const latencies = await pool(n, concurrency, async (i) => {
      const t = performance.now();
      const id = await post(bodies[i + 1] as string);
      expected.add(id);
      postedAt.set(id, t);
    });
    const postSeconds = (performance.now() - start) / 1000;
    const postsPerSecond = n / postSeconds;
    emit({
      bench: "server",
      case: "C2S outbox POST accepted (201)",
      n,
      concurrency,
      perSecond: round(postsPerSecond, 1),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
    });

    const seen = await stream.done;
    const delivery = [...seen].map(([id, at]) => at - (postedAt.get(id) ?? at));
    const lastArrival = Math.max(...seen.values());
    const deliveredPerSecond = seen.size / ((lastArrival - start) / 1000);
    emit({
      bench: "server",
      case: "delivered into remote messages (SSE)",
      delivered: seen.size,
      of: n,
      perSecond: round(deliveredPerSecond, 1),
      p50Ms: round(percentile(delivery, 50)),
      p99Ms: round(percentile(delivery, 99)),
    });
    emit({
      bench: "server",
      headline: true,
      postsPerSecond: round(postsPerSecond, 1),
      deliveredPerSecond: round(deliveredPerSecond, 1),
      deliveryP50Ms: round(percentile(delivery, 50)),
      deliveryP99Ms: round(percentile(delivery, 99)),
      baselineEchoPerSecond: round(base.perSecond, 1),
      postsVsEcho: round(postsPerSecond / base.perSecond),
      deliveredVsEcho: round(deliveredPerSecond / base.perSecond),
    });
  } finally {
    await a.close();
    await b.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
