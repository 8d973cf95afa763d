// Test fixtures for the API server: a real encrypted store in a temp dir whose event log the server tails,
// and handlers that answer from that store. Only tests import this.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, type EventBody } from "@sotto/api";
import { openStore, type Store } from "@sotto/storage";
import { type ClientOptions, WebSocket } from "ws";
import type { PartialHandlers } from "./handlers.js";
import { type ApiServer, type ApiServerOptions, startApiServer } from "./server.js";
import { storeEventLog, toEventInput } from "./store-event-log.js";
import { loadOrCreateToken } from "./token.js";

export const CONVERSATION = "urn:uuid:0c8f4e6e-2a59-4d1e-8a0b-5b7c9d3e1f20";

export interface TestApi {
  readonly dir: string;
  readonly store: Store;
  readonly server: ApiServer;
  readonly token: string;
  /** Commits `n` message.created events, one unit each, and returns their seqs. */
  append(n: number): number[];
  close(): Promise<void>;
}

/** A store (keeping `keepEvents`, holding `preload` events before the server starts) and a server on it. */
export async function startTestApi(
  overrides: Partial<ApiServerOptions> = {},
  { keepEvents, preload = 0 }: { keepEvents?: number; preload?: number } = {},
): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), "sotto-api-"));
  const keyFile = join(dir, "store.key");
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const store = await openStore({
    path: join(dir, "store.db"),
    key: { keyFile },
    durability: "normal",
    keepEvents,
  });
  const token = await loadOrCreateToken(dir);
  let next = 0;
  const append = (n: number): number[] => {
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) {
      next += 1;
      const body: EventBody = {
        type: "message.created",
        conversationId: CONVERSATION,
        messageId: `urn:uuid:00000000-0000-4000-8000-${String(next).padStart(12, "0")}`,
      };
      const { events } = store.apply({ events: [toEventInput(body)] });
      seqs.push(...events.map((e) => e.seq));
    }
    return seqs;
  };
  append(preload);
  const server = await startApiServer({
    handlers: storeHandlers(store),
    events: storeEventLog(store),
    token,
    ...overrides,
  });
  return {
    dir,
    store,
    server,
    token,
    append,
    async close() {
      await server.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers `status` from the store, and `account.get` with not_ready (a daemon without an account). */
function storeHandlers(store: Store): PartialHandlers {
  return {
    status: () => ({
      version: "test",
      ready: false,
      account: null,
      sync: { state: "idle", lastSyncAt: null, error: null },
      outbox: { queued: 0, failed: 0 },
      events: { head: store.lastSeq, oldest: store.since(0, 0).gap?.to ?? 0 },
    }),
    "account.get": () => {
      throw new ApiError("not_ready", "No account in this test daemon");
    },
  };
}

/** Polls `condition` until it holds; fails with a clear message after `timeoutMs`. */
export async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type RawOptions = ClientOptions & { protocols?: string[] };

/** The HTTP status a handshake gets: 101 when the server accepts it (the socket is then closed again). */
export function handshakeStatus(url: string, options: RawOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], options);
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

/** A raw `ws` client, open (rejects if the handshake is refused). */
export function openSocket(url: string, options: RawOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], options);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Collects every JSON frame a raw client receives. */
export function frames(ws: WebSocket): { list: Record<string, unknown>[] } {
  const received = { list: [] as Record<string, unknown>[] };
  ws.on("message", (data) => received.list.push(JSON.parse(String(data))));
  return received;
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
}

/** Sends a request and waits for the response with its id. */
export async function request(ws: WebSocket, id: number, method: string, params?: unknown) {
  const answer = new Promise<Record<string, unknown>>((resolve) => {
    const onMessage = (data: unknown) => {
      const frame = JSON.parse(String(data));
      if (frame.id === id) {
        ws.off("message", onMessage);
        resolve(frame);
      }
    };
    ws.on("message", onMessage);
  });
  ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  return answer;
}
