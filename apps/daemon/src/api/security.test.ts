// The security matrix: each attack against a running API server is refused, while a legitimate client on
// another connection keeps working (its requests are answered and it keeps receiving events). It runs twice:
// against a server on a real store, and against a real running daemon serving its API with `serveApi`.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { type ApiEvent, SottoClient } from "@sotto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { VERSION } from "../daemon.js";
import { createWorld } from "../testing/world.js";
import { CLOSE } from "./connection.js";
import { ApiServerError } from "./errors.js";
import type { EventLog } from "./event-hub.js";
import { serveApi } from "./serve.js";
import { type ApiServer, type ApiServerOptions, startApiServer } from "./server.js";
import { storeEventLog, toEventInput } from "./store-event-log.js";
import { closed, frames, handshakeStatus, openSocket, request, startTestApi, until } from "./test-support.js";
import { TOKEN_FILE } from "./token.js";

/** The limits the matrix runs with (small, so that floods and timeouts are quick to reach). */
const LIMITS = {
  maxFrameBytes: 64 * 1024,
  rate: { burst: 50, perSecond: 100 },
  authTimeoutMs: 300,
  origins: ["http://localhost:5173"],
} satisfies Partial<ApiServerOptions>;

interface Target {
  readonly server: ApiServer;
  readonly token: string;
  readonly version: string;
  readonly events: EventLog;
  /** Commits one event and returns its seq. */
  append(): number;
  close(): Promise<void>;
}

async function storeTarget(limits: Partial<ApiServerOptions> = LIMITS): Promise<Target> {
  const api = await startTestApi(limits);
  return {
    server: api.server,
    token: api.token,
    version: "test",
    events: storeEventLog(api.store),
    append: () => api.append(1)[0] as number,
    close: () => api.close(),
  };
}

async function daemonTarget(limits: Partial<ApiServerOptions> = LIMITS): Promise<Target> {
  const world = await createWorld();
  const daemon = await world.daemon(await world.server(), "alice");
  await daemon.start();
  const stateDir = join(world.dir, "alice-data");
  const server = await serveApi(daemon, { stateDir, ...limits });
  const sync = { state: "idle", lastSyncAt: null, error: null } as const;
  return {
    server,
    token: readFileSync(join(stateDir, TOKEN_FILE), "utf8").trim(),
    version: VERSION,
    events: storeEventLog(daemon.store),
    append: () =>
      daemon.store.apply({ events: [toEventInput({ type: "sync.state", sync })] }).events[0]?.seq ?? -1,
    async close() {
      await server.close();
      await world.close();
    },
  };
}

describe.each([
  ["a server on a real store", storeTarget],
  ["a running daemon", daemonTarget],
])("API security matrix: %s", (_name, start) => {
  let target: Target;
  let legit: SottoClient;
  const seen: ApiEvent[] = [];

  beforeAll(async () => {
    target = await start();
    legit = await SottoClient.connect({ url: target.server.url, token: target.token, reconnect: false });
    legit.onEvent((event) => seen.push(event));
    await legit.subscribe({ since: 0 });
  });

  afterAll(async () => {
    legit?.close();
    await target?.close();
  });

  /** After every attack: the legitimate client still gets answers and new events. */
  async function legitimateClientStillWorks(): Promise<void> {
    const seq = target.append();
    const status = await legit.call("status");
    expect(status.events.head).toBeGreaterThanOrEqual(seq);
    await until("the legitimate client to receive the new event", () => seen.some((e) => e.seq === seq));
    expect(legit.state).toBe("open");
  }

  it("listens on loopback only", () => {
    expect(target.server.hosts.length).toBeGreaterThan(0);
    for (const host of target.server.hosts) expect(["127.0.0.1", "::1"]).toContain(host);
  });

  it("accepts the token in the Authorization header, as a protocol value, and as the first frame", async () => {
    const header = await openSocket(target.server.url, {
      headers: { authorization: `Bearer ${target.token}` },
    });
    expect((await request(header, 1, "status")).result).toMatchObject({ version: target.version });
    header.close();

    const protocol = await openSocket(target.server.url, {
      protocols: ["sotto.v1", `bearer.${target.token}`],
    });
    expect(protocol.protocol).toBe("sotto.v1"); // the token is never echoed back
    expect((await request(protocol, 1, "status")).result).toMatchObject({ version: target.version });
    protocol.close();

    const frame = await SottoClient.connect({ url: target.server.url, token: target.token, auth: "frame" });
    expect((await frame.call("status")).version).toBe(target.version);
    frame.close();
  });

  it("refuses a connection without a token: requests get unauthorized and the connection is closed", async () => {
    const ws = await openSocket(target.server.url);
    const gone = closed(ws);
    const answer = await request(ws, 1, "status");
    expect(answer.error).toMatchObject({ code: -32001, data: { code: "unauthorized" } });
    expect((await gone).code).toBe(CLOSE.unauthorized);
    await legitimateClientStillWorks();
  });

  it("closes a connection that never authenticates", async () => {
    const ws = await openSocket(target.server.url);
    expect((await closed(ws)).code).toBe(CLOSE.unauthorized);
  });

  it("refuses a wrong token in every position", async () => {
    const wrong = "not-the-token";
    expect(await handshakeStatus(target.server.url, { headers: { authorization: `Bearer ${wrong}` } })).toBe(
      401,
    );
    expect(await handshakeStatus(target.server.url, { protocols: ["sotto.v1", `bearer.${wrong}`] })).toBe(
      401,
    );
    const ws = await openSocket(target.server.url);
    const gone = closed(ws);
    const answer = await request(ws, 1, "auth", { token: wrong });
    expect(answer.error).toMatchObject({ data: { code: "unauthorized" } });
    expect((await gone).code).toBe(CLOSE.unauthorized);
    await expect(
      SottoClient.connect({ url: target.server.url, token: wrong, reconnect: false }),
    ).rejects.toMatchObject({
      code: "connection_failed",
    });
    await legitimateClientStillWorks();
  });

  it("refuses a foreign Origin even with the right token, and admits an allowed one", async () => {
    const auth = { authorization: `Bearer ${target.token}` };
    expect(await handshakeStatus(target.server.url, { headers: auth, origin: "https://evil.example" })).toBe(
      403,
    );
    expect(await handshakeStatus(target.server.url, { headers: auth, origin: "null" })).toBe(403);
    expect(await handshakeStatus(target.server.url, { headers: auth, origin: "http://localhost:5173" })).toBe(
      101,
    );
    await legitimateClientStillWorks();
  });

  it("refuses a DNS-rebinding Host (and any Host not naming loopback with our port)", async () => {
    const auth = { authorization: `Bearer ${target.token}` };
    const port = target.server.port;
    for (const host of [
      `rebind.evil.example:${port}`,
      "localhost",
      `localhost:${port + 1}`,
      `10.0.0.1:${port}`,
    ]) {
      expect(await handshakeStatus(target.server.url, { headers: { ...auth, host } }), host).toBe(403);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect(await handshakeStatus(target.server.url, { headers: { ...auth, host } }), host).toBe(101);
    }
    await legitimateClientStillWorks();
  });

  it("survives peers that reset the connection in the middle of refused and accepted handshakes", async () => {
    for (let i = 0; i < 30; i++) {
      const socket = connect(target.server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      const host = i % 2 === 0 ? "evil.example" : `127.0.0.1:${target.server.port}`;
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.alloc(16, i).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
          `Authorization: Bearer ${target.token}\r\n\r\n`,
      );
      socket.resetAndDestroy();
    }
    await legitimateClientStillWorks();
  });

  it("refuses to bind a non-loopback address, with a typed error", async () => {
    const external = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((i) => !i.internal)
      .map((i) => i.address);
    for (const host of ["0.0.0.0", "::", "localhost", "192.168.1.10", ...external]) {
      const attempt = startApiServer({
        handlers: {},
        events: target.events,
        token: target.token,
        hosts: [host],
      });
      await expect(attempt, host).rejects.toBeInstanceOf(ApiServerError);
      await expect(attempt, host).rejects.toMatchObject({ code: "non_loopback_bind" });
    }
    await legitimateClientStillWorks();
  });

  it("closes a connection that sends an oversized frame (1009)", async () => {
    const ws = await openSocket(target.server.url, { headers: { authorization: `Bearer ${target.token}` } });
    const gone = closed(ws);
    ws.send(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status", params: { pad: "x".repeat(128 * 1024) } }),
    );
    expect((await gone).code).toBe(1009);
    await legitimateClientStillWorks();
  });

  it("rate-limits a flood, then closes the connection that ignores the limit", async () => {
    const ws = await openSocket(target.server.url, { headers: { authorization: `Bearer ${target.token}` } });
    const got = frames(ws);
    const gone = closed(ws);
    for (let i = 1; i <= 2000 && ws.readyState === ws.OPEN; i++) {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: i, method: "status" }));
    }
    expect((await gone).code).toBe(CLOSE.flood);
    const limited = got.list.filter(
      (f) => (f.error as { data?: { code?: string } })?.data?.code === "rate_limited",
    );
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]?.error).toMatchObject({ code: -32002, data: { retryAfterMs: expect.any(Number) } });
    await legitimateClientStillWorks();
  });
});

// Issue 14, attack 5, against the default limits: a flood at full speed is closed, and local processes
// without the token holding and reopening sockets do not keep the token holder (or a browser) out.
describe.each([
  ["a server on a real store", storeTarget],
  ["a running daemon", daemonTarget],
])("API limits as shipped: %s", (_name, start) => {
  let target: Target;

  beforeAll(async () => {
    target = await start({});
  });
  afterAll(async () => {
    await target?.close();
  });

  it("closes a connection flooding requests (4429)", async () => {
    const ws = await openSocket(target.server.url, { headers: { authorization: `Bearer ${target.token}` } });
    const gone = closed(ws);
    let isClosed = false;
    void gone.then(() => {
      isClosed = true;
    });
    // Full speed, in turns of 200 frames, until closed (at most 200,000 frames): the daemon closes after a count
    // of refused requests, so how long that takes depends on the machine, not on the test.
    for (let i = 0; i < 1000 && ws.readyState === ws.OPEN; i++) {
      for (let j = 0; j < 200; j++)
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: i * 200 + j, method: "status" }));
      await new Promise((r) => setImmediate(r));
    }
    // Bounded wait for a loaded machine; not a timing assertion.
    await until("the flooding connection to close", () => isClosed, 60_000);
    expect((await gone).code).toBe(CLOSE.flood);
    const client = await SottoClient.connect({
      url: target.server.url,
      token: target.token,
      reconnect: false,
    });
    expect((await client.call("status")).version).toBe(target.version);
    client.close();
  });

  it("lets the token holder and a browser in while strangers hold and reopen sockets without the token", async () => {
    const strangers: WebSocket[] = [];
    // 300 sockets without a token, more than the main pool (256) holds.
    for (let i = 0; i < 300; i++) {
      const ws = await openSocket(target.server.url).catch(() => undefined);
      if (ws !== undefined) {
        ws.on("error", () => {});
        strangers.push(ws);
      }
    }
    // The token in the handshake always finds a slot.
    for (const auth of [
      { headers: { authorization: `Bearer ${target.token}` } },
      { protocols: ["sotto.v1", `bearer.${target.token}`] },
    ]) {
      expect(await handshakeStatus(target.server.url, auth)).toBe(101);
    }
    const holder = await SottoClient.connect({
      url: target.server.url,
      token: target.token,
      reconnect: false,
    });
    expect((await holder.call("status")).version).toBe(target.version);
    // A browser's first-frame auth makes room by pushing out the oldest stranger still waiting.
    const browser = await SottoClient.connect({ url: target.server.url, token: target.token, auth: "frame" });
    expect((await browser.call("status")).version).toBe(target.version);
    // At most the small pool of strangers waits to authenticate.
    await until(
      "the strangers beyond the pending pool to be closed",
      () => strangers.filter((ws) => ws.readyState === ws.OPEN).length <= 16,
    );
    holder.close();
    browser.close();
    for (const ws of strangers) ws.terminate();
  });
});

describe("JSON-RPC errors", () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it("answers malformed JSON with -32700 and keeps the connection", async () => {
    const ws = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    const got = frames(ws);
    ws.send("{not json");
    await until("the parse error", () => got.list.length === 1);
    expect(got.list[0]).toMatchObject({ id: null, error: { code: -32700, data: { code: "parse_error" } } });
    expect((await request(ws, 2, "status")).result).toMatchObject({ version: "test" });
    ws.close();
  });

  it("answers a binary frame with -32600 and keeps the connection", async () => {
    const ws = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    const got = frames(ws);
    ws.send(Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status" })));
    await until("the error", () => got.list.length === 1);
    expect(got.list[0]).toMatchObject({
      id: null,
      error: { code: -32600, data: { code: "invalid_request" } },
    });
    expect((await request(ws, 2, "status")).result).toMatchObject({ version: "test" });
    ws.close();
  });

  it("answers -32600 for JSON that is not a request, -32601 for an unknown method", async () => {
    const ws = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    const got = frames(ws);
    ws.send(JSON.stringify([1, 2]));
    ws.send(JSON.stringify({ jsonrpc: "1.0", id: 5, method: "status" }));
    await until("two errors", () => got.list.length === 2);
    expect(got.list[0]).toMatchObject({ id: null, error: { code: -32600 } });
    expect(got.list[1]).toMatchObject({ id: 5, error: { code: -32600 } });
    expect((await request(ws, 6, "messages.shred", {})).error).toMatchObject({
      code: -32601,
      data: { code: "method_not_found" },
    });
    ws.close();
  });

  it("answers -32602 listing every zod issue", async () => {
    const ws = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    const answer = await request(ws, 1, "messages.list", { limit: 0, extra: true });
    const error = answer.error as { code: number; data: { code: string; issues: { path: unknown[] }[] } };
    expect(error.code).toBe(-32602);
    expect(error.data.code).toBe("invalid_params");
    const paths = error.data.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["conversationId", "limit"]));
    expect(error.data.issues.some((i) => (i as { code?: string }).code === "unrecognized_keys")).toBe(true);
    ws.close();
  });

  it("answers -32601 for a method this daemon has no handler for", async () => {
    const client = await SottoClient.connect({ url: api.server.url, token: api.token, reconnect: false });
    await expect(client.call("devices.list")).rejects.toMatchObject({
      code: "method_not_found",
      rpcCode: -32601,
    });
    client.close();
  });

  it("answers domain errors with their documented code, through the typed client", async () => {
    const client = await SottoClient.connect({ url: api.server.url, token: api.token, reconnect: false });
    await expect(client.call("account.get")).rejects.toMatchObject({
      name: "ApiError",
      code: "not_ready",
      rpcCode: -32003,
    });
    client.close();
  });
});
