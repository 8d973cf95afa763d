// Event delivery against a running server tailing a real store: replay + live with no loss, no duplicates and
// one order for everyone, resumption across reconnects, and `gap` past retention.
import { type ApiEvent, type SocketLike, SottoClient, type WebSocketConstructor } from "@sotto/api";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import { openSocket, request, startTestApi, type TestApi, until } from "./test-support.js";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("events", () => {
  let api: TestApi | undefined;
  const clients: SottoClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await api?.close();
    api = undefined;
  });

  async function connect(extra: { WebSocket?: WebSocketConstructor } = {}): Promise<SottoClient> {
    if (!api) throw new Error("start the API first");
    const client = await SottoClient.connect({
      url: api.server.url,
      token: api.token,
      reconnect: { minDelayMs: 50, maxDelayMs: 200 },
      ...extra,
    });
    clients.push(client);
    return client;
  }

  function record(client: SottoClient): ApiEvent[] {
    const events: ApiEvent[] = [];
    client.onEvent((e) => events.push(e));
    return events;
  }

  it("replays what a client missed, then streams live, each event once and in order", async () => {
    api = await startTestApi();
    api.append(30);
    const client = await connect();
    const got = record(client);
    const { head } = await client.subscribe({ since: 10 });
    expect(head).toBe(30);
    api.append(20);
    await until("50 events", () => got.length >= 40);
    expect(got.map((e) => e.seq)).toEqual(range(11, 50));
    expect(got.every((e) => e.type === "message.created")).toBe(true);
  });

  it("works the same over the `ws` package's WebSocket (runtimes without a global one)", async () => {
    api = await startTestApi({}, { preload: 3 });
    const client = await connect({ WebSocket: WsWebSocket as unknown as WebSocketConstructor });
    const got = record(client);
    await client.subscribe({ since: 0 });
    api.append(2);
    await until("5 events", () => got.length === 5);
    expect(got.map((e) => e.seq)).toEqual(range(1, 5));
    expect((await client.call("status")).events.head).toBe(5);
  });

  it("without `since`, sends only new events; after unsubscribe, none", async () => {
    api = await startTestApi();
    api.append(5);
    const client = await connect();
    const got = record(client);
    expect((await client.subscribe()).head).toBe(5);
    api.append(3);
    await until("3 new events", () => got.length === 3);
    expect(got.map((e) => e.seq)).toEqual([6, 7, 8]);
    await client.unsubscribe();
    api.append(3);
    // A status round trip after the commit: had the server sent events, they would have arrived before it.
    expect((await client.call("status")).events.head).toBe(11);
    expect(got.map((e) => e.seq)).toEqual([6, 7, 8]);
  });

  it("a client that disconnects and misses 500 events receives each exactly once, in order, on reconnect", async () => {
    api = await startTestApi();
    const sockets: SocketLike[] = [];
    // The global WebSocket, remembering each socket so the test can cut the connection.
    class Recording extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this as unknown as SocketLike);
      }
    }
    const client = await connect({ WebSocket: Recording as unknown as WebSocketConstructor });
    const got = record(client);
    const states: string[] = [];
    client.onState((s) => states.push(s));
    await client.subscribe({ since: 0 });
    api.append(10);
    await until("the first 10 events", () => got.length === 10);

    sockets.at(-1)?.close();
    await until("the client to notice the drop", () => client.state === "reconnecting");
    const missed = api.append(500);
    expect(missed).toEqual(range(11, 510));
    await until("the client to reconnect", () => client.state === "open");
    api.append(5); // live again after the replay
    await until("all 515 events", () => got.length >= 515);

    expect(sockets.length).toBe(2);
    expect(states).toEqual(["reconnecting", "open"]);
    expect(got.map((e) => e.seq)).toEqual(range(1, 515));
    const ids = got.map((e) => (e.type === "message.created" ? e.messageId : ""));
    expect(new Set(ids).size).toBe(515);
    expect(client.lastSeq).toBe(515);
  });

  it("20 concurrent clients all receive every event in the same order, joining at different times", async () => {
    api = await startTestApi();
    const received: ApiEvent[][] = [];
    const appended: number[] = [];
    for (let round = 0; round < 20; round++) {
      // A new client joins each round (replaying from 0) while events keep being committed.
      const client = await connect();
      received.push(record(client));
      await client.subscribe({ since: 0 });
      for (let i = 0; i < 5; i++) {
        appended.push(...api.append(3));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(appended).toEqual(range(1, 300));
    await until("every client to have 300 events", () => received.every((r) => r.length >= 300), 20_000);
    const order = received[0]?.map((e) => e.seq);
    expect(order).toEqual(range(1, 300));
    for (const r of received) expect(r.map((e) => e.seq)).toEqual(order);
  }, 30_000);

  it("sends `gap` when asked for events older than retention, then the rest", async () => {
    // Written before the server started, so only the store's log has them (not the server's recent window).
    api = await startTestApi({}, { keepEvents: 20, preload: 100 });
    const client = await connect();
    const got = record(client);
    const status = await client.call("status");
    expect(status.events.oldest).toBeGreaterThan(1);
    await client.subscribe({ since: 0 });
    const floor = status.events.oldest;
    await until("the gap and the kept events", () => got.at(-1)?.seq === 100);
    expect(got[0]).toEqual({ type: "gap", seq: floor, from: 1, to: floor });
    expect(got.slice(1).map((e) => e.seq)).toEqual(range(floor + 1, 100));

    // Subscribing from the floor itself replays without a gap.
    const again = await connect();
    const got2 = record(again);
    await again.subscribe({ since: floor });
    await until("the kept events", () => got2.at(-1)?.seq === 100);
    expect(got2.map((e) => e.type)).not.toContain("gap");
  });

  it("a client that stops reading delays no one, and then gets every event in order", async () => {
    api = await startTestApi();
    const slow = await openSocket(api.server.url, { headers: { authorization: `Bearer ${api.token}` } });
    const slowSeqs: number[] = [];
    slow.on("message", (data) => {
      const frame = JSON.parse(String(data));
      if (frame.method === "event") slowSeqs.push(frame.params.seq);
    });
    expect((await request(slow, 1, "events.subscribe", { since: 0 })).result).toEqual({ head: 0 });
    slow.pause(); // stops reading its socket
    const fast = await connect();
    const fastEvents = record(fast);
    await fast.subscribe({ since: 0 });

    const total = 20_000; // ~4 MB of frames, far more than the server's window of recent events
    for (let i = 0; i < total; i += 1000) {
      api.append(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until("the fast client to have every event", () => fastEvents.length === total, 30_000);
    expect(fastEvents.map((e) => e.seq)).toEqual(range(1, total));

    slow.resume();
    await until("the slow client to catch up", () => slowSeqs.length >= total, 30_000);
    expect(slowSeqs).toEqual(range(1, total));
    slow.close();
  }, 60_000);
});
