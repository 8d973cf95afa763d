// The security matrix: each attack against a running API server is refused, while a legitimate client on
// another connection keeps working (its requests are answered and it keeps receiving events).
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { type ApiEvent, SottoClient } from "@sotto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE } from "./connection.js";
import { ApiServerError } from "./errors.js";
import { startApiServer } from "./server.js";
import { storeEventLog } from "./store-event-log.js";
import {
  closed,
  frames,
  handshakeStatus,
  openSocket,
  request,
  startTestApi,
  type TestApi,
  until,
} from "./test-support.js";

describe("API security matrix", () => {
  let api: TestApi;
  let legit: SottoClient;
  const seen: ApiEvent[] = [];

  beforeAll(async () => {
    api = await startTestApi({
      maxFrameBytes: 64 * 1024,
      rate: { burst: 50, perSecond: 100 },
      authTimeoutMs: 300,
      origins: ["http://localhost:5173"],
    });
    legit = await SottoClient.connect({ url: api.server.url, token: api.token, reconnect: false });
    legit.onEvent((event) => seen.push(event));
    await legit.subscribe({ since: 0 });
  });

  afterAll(async () => {
    legit?.close();
    await api?.close();
  });

  /** After every attack: the legitimate client still gets answers and new events. */
  async function legitimateClientStillWorks(): Promise<void> {
    const [seq] = api.append(1);
    const status = await legit.call("status");
    expect(status.events.head).toBeGreaterThanOrEqual(seq as number);
    await until("the legitimate client to receive the new event", () => seen.some((e) => e.seq === seq));
    expect(legit.state).toBe("open");
  }

  it("listens on loopback only", () => {
    expect(api.server.hosts.length).toBeGreaterThan(0);
    for (const host of api.server.hosts) expect(["127.0.0.1", "::1"]).toContain(host);
  });

  it("accepts the token in the Authorization header, as a protocol value, and as the first frame", async () => {
    const header = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    expect((await request(header, 1, "status")).result).toMatchObject({ version: "test" });
    header.close();

    const protocol = await openSocket(api.server.url, { protocols: ["sotto.v1", `bearer.${api.token}`] });
    expect(protocol.protocol).toBe("sotto.v1"); // the token is never echoed back
    expect((await request(protocol, 1, "status")).result).toMatchObject({ version: "test" });
    protocol.close();

    const frame = await SottoClient.connect({ url: api.server.url, token: api.token, auth: "frame" });
    expect((await frame.call("status")).version).toBe("test");
    frame.close();
  });

  it("refuses a connection without a token: requests get unauthorized and the connection is closed", async () => {
    const ws = await openSocket(api.server.url);
    const gone = closed(ws);
    const answer = await request(ws, 1, "status");
    expect(answer.error).toMatchObject({ code: -32001, data: { code: "unauthorized" } });
    expect((await gone).code).toBe(CLOSE.unauthorized);
    await legitimateClientStillWorks();
  });

  it("closes a connection that never authenticates", async () => {
    const ws = await openSocket(api.server.url);
    expect((await closed(ws)).code).toBe(CLOSE.unauthorized);
  });

  it("refuses a wrong token in every position", async () => {
    const wrong = "not-the-token";
    expect(await handshakeStatus(api.server.url, { headers: { authorization: `Bearer ${wrong}` } })).toBe(
      401,
    );
    expect(await handshakeStatus(api.server.url, { protocols: ["sotto.v1", `bearer.${wrong}`] })).toBe(401);
    const ws = await openSocket(api.server.url);
    const gone = closed(ws);
    const answer = await request(ws, 1, "auth", { token: wrong });
    expect(answer.error).toMatchObject({ data: { code: "unauthorized" } });
    expect((await gone).code).toBe(CLOSE.unauthorized);
    await expect(
      SottoClient.connect({ url: api.server.url, token: wrong, reconnect: false }),
    ).rejects.toMatchObject({
      code: "connection_failed",
    });
    await legitimateClientStillWorks();
  });

  it("refuses a foreign Origin even with the right token, and admits an allowed one", async () => {
    const auth = { authorization: `Bearer ${api.token}` };
    expect(await handshakeStatus(api.server.url, { headers: auth, origin: "https://evil.example" })).toBe(
      403,
    );
    expect(await handshakeStatus(api.server.url, { headers: auth, origin: "null" })).toBe(403);
    expect(await handshakeStatus(api.server.url, { headers: auth, origin: "http://localhost:5173" })).toBe(
      101,
    );
    await legitimateClientStillWorks();
  });

  it("refuses a DNS-rebinding Host (and any Host not naming loopback with our port)", async () => {
    const auth = { authorization: `Bearer ${api.token}` };
    const port = api.server.port;
    for (const host of [
      `rebind.evil.example:${port}`,
      "localhost",
      `localhost:${port + 1}`,
      `10.0.0.1:${port}`,
    ]) {
      expect(await handshakeStatus(api.server.url, { headers: { ...auth, host } }), host).toBe(403);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect(await handshakeStatus(api.server.url, { headers: { ...auth, host } }), host).toBe(101);
    }
    await legitimateClientStillWorks();
  });

  it("survives peers that reset the connection in the middle of refused and accepted handshakes", async () => {
    for (let i = 0; i < 30; i++) {
      const socket = connect(api.server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      const host = i % 2 === 0 ? "evil.example" : `127.0.0.1:${api.server.port}`;
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.alloc(16, i).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
          `Authorization: Bearer ${api.token}\r\n\r\n`,
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
        events: storeEventLog(api.store),
        token: api.token,
        hosts: [host],
      });
      await expect(attempt, host).rejects.toBeInstanceOf(ApiServerError);
      await expect(attempt, host).rejects.toMatchObject({ code: "non_loopback_bind" });
    }
    await legitimateClientStillWorks();
  });

  it("closes a connection that sends an oversized frame (1009)", async () => {
    const ws = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    const gone = closed(ws);
    ws.send(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status", params: { pad: "x".repeat(128 * 1024) } }),
    );
    expect((await gone).code).toBe(1009);
    await legitimateClientStillWorks();
  });

  it("rate-limits a flood, then closes the connection that ignores the limit", async () => {
    const ws = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
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

describe("JSON-RPC errors", () => {
  let api: TestApi;

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
