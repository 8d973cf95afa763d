// The local API: request round trip through SottoClient -> server -> handler and back, and the time from a
// store commit until one event has reached 50 subscribed clients. Baselines in the same run: a bare `ws` echo
// round trip, and a bare `ws` broadcast of a frame of the same size to 50 clients.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EventBody, SottoClient } from "@sotto/api";
import { loadOrCreateToken, startApiServer, storeEventLog, toEventInput } from "@sotto/daemon/api";
import { openStore } from "@sotto/storage";
import { WebSocketServer } from "ws";
import { emit, percentile, round, sample } from "./report.js";

const CLIENTS = 50;

function body(i: number): EventBody {
  return {
    type: "message.created",
    conversationId: "urn:uuid:0c8f4e6e-2a59-4d1e-8a0b-5b7c9d3e1f20",
    messageId: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  };
}

function figures(values: number[]) {
  return { p50: round(percentile(values, 50), 4), p99: round(percentile(values, 99), 4) };
}

/** A bare `ws` server on loopback: echoes every frame, and can broadcast one frame to every client. */
async function bareServer() {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(String(data))));
  const address = wss.address();
  const url = `ws://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  return {
    url,
    broadcast: (frame: string) => {
      for (const client of wss.clients) client.send(frame);
    },
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

function openBare(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

/** Baseline round trip: a JSON-RPC-sized frame echoed by a bare `ws` server. */
async function bareRoundTrip(url: string, n: number): Promise<number[]> {
  const ws = await openBare(url);
  let pending: (() => void) | undefined;
  ws.onmessage = () => pending?.();
  const frame = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status", params: {} });
  const times = await sample(
    n,
    () =>
      new Promise<void>((resolve) => {
        pending = resolve;
        ws.send(frame);
      }),
  );
  ws.close();
  return times;
}

/** Baseline fan-out: one frame broadcast to `CLIENTS` bare clients, until the last one has it. */
async function bareFanOut(server: Awaited<ReturnType<typeof bareServer>>, frame: string, n: number) {
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => openBare(server.url)));
  let remaining = 0;
  let done: (() => void) | undefined;
  for (const ws of sockets) {
    ws.onmessage = () => {
      remaining -= 1;
      if (remaining === 0) done?.();
    };
  }
  const times = await sample(
    n,
    () =>
      new Promise<void>((resolve) => {
        remaining = CLIENTS;
        done = resolve;
        server.broadcast(frame);
      }),
  );
  for (const ws of sockets) ws.close();
  return times;
}

export async function main(args: string[]): Promise<void> {
  const flag = args.indexOf("--requests");
  const requests = flag >= 0 ? Number(args[flag + 1]) : 3000;
  const events = 300;
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-api-"));
  const keyFile = join(dir, "store.key");
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const store = await openStore({ path: join(dir, "store.db"), key: { keyFile }, durability: "normal" });
  const token = await loadOrCreateToken(dir);
  const server = await startApiServer({
    token,
    events: storeEventLog(store),
    // Sequential requests here go faster than the default per-connection limit allows: lift it.
    rate: { burst: 100_000, perSecond: 100_000 },
    handlers: {
      status: () => ({
        version: "bench",
        ready: true,
        account: null,
        sync: { state: "idle", lastSyncAt: null, error: null },
        outbox: { queued: 0, failed: 0 },
        events: { head: store.lastSeq, oldest: 0 },
      }),
    },
  });
  const bare = await bareServer();
  const clients: SottoClient[] = [];
  try {
    // Round trips, interleaved in rounds so both see the same machine load.
    const client = await SottoClient.connect({ url: server.url, token });
    clients.push(client);
    await sample(300, () => client.call("status")); // warm-up
    await bareRoundTrip(bare.url, 300);
    const api: number[] = [];
    const baseline: number[] = [];
    for (let r = 0; r < 3; r++) {
      baseline.push(...(await bareRoundTrip(bare.url, requests / 3)));
      api.push(...(await sample(requests / 3, () => client.call("status"))));
    }
    const roundTrip = { api: figures(api), baseline: figures(baseline) };
    emit({ bench: "api", case: "round-trip", requests, ...roundTrip });

    // Fan-out: commit one event, wait until all 50 subscribed clients have it.
    const subscribers = await Promise.all(
      Array.from({ length: CLIENTS }, () => SottoClient.connect({ url: server.url, token })),
    );
    clients.push(...subscribers);
    let remaining = 0;
    let done: (() => void) | undefined;
    for (const s of subscribers) {
      s.onEvent(() => {
        remaining -= 1;
        if (remaining === 0) done?.();
      });
      await s.subscribe();
    }
    let i = 0;
    const commitToAll = () =>
      new Promise<void>((resolve) => {
        remaining = CLIENTS;
        done = resolve;
        i += 1;
        store.apply({ events: [toEventInput(body(i))] });
      });
    await sample(30, commitToAll); // warm-up
    const frame = JSON.stringify({ jsonrpc: "2.0", method: "event", params: { seq: 1, ...body(1) } });
    await bareFanOut(bare, frame, 30);
    const fan: number[] = [];
    const fanBaseline: number[] = [];
    for (let r = 0; r < 3; r++) {
      fanBaseline.push(...(await bareFanOut(bare, frame, events / 3)));
      fan.push(...(await sample(events / 3, commitToAll)));
    }
    const fanOut = { api: figures(fan), baseline: figures(fanBaseline) };
    emit({ bench: "api", case: "fan-out", clients: CLIENTS, events, ...fanOut });

    const p50 = roundTrip.api.p50;
    const fan50 = fanOut.api.p50;
    emit({
      bench: "api",
      roundTripMs: roundTrip.api,
      roundTripBaselineMs: roundTrip.baseline,
      roundTripRatio: round(p50 / roundTrip.baseline.p50, 2),
      fanOutMs: fanOut.api,
      fanOutBaselineMs: fanOut.baseline,
      fanOutRatio: round(fan50 / fanOut.baseline.p50, 2),
      clients: CLIENTS,
      target: { roundTripP50Ms: 1, fanOutP50Ms: 10 },
      met: p50 < 1 && fan50 < 10,
    });
  } finally {
    for (const c of clients) c.close();
    await bare.close();
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
