import { getEventListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Account, type ReceivedItem } from "./account.js";
import { ActivityPubClient } from "./client.js";

// A small real HTTP server playing an ActivityPub home server: WebFinger, one actor, an outbox and a
// `messages` collection that reads forward (`?after=`) and streams (SSE with Last-Event-ID).
interface Fixture {
  readonly origin: string;
  readonly actorId: string;
  readonly received: { id: string; type: string }[];
  readonly lastEventIds: (string | undefined)[];
  /** GETs of the actor document so far. */
  actorGets(): number;
  push(n: number): void;
  /** Cuts every open event stream, as a restarting server or a lost connection would. */
  drop(): void;
  close(): Promise<void>;
}

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function startFixture(options: { sse: boolean | "refuse"; pageSize?: number }): Promise<Fixture> {
  const received: { id: string; type: string }[] = [];
  const lastEventIds: (string | undefined)[] = [];
  const streams = new Set<ServerResponse>();
  let origin = "";
  let actorGets = 0;
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/activity+json" }).end(JSON.stringify(body));
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", origin);
    if (url.pathname === "/.well-known/webfinger") {
      if (url.searchParams.get("resource") !== `acct:alice@${url.host}`) return json(res, 404, {});
      return json(res, 200, {
        subject: url.searchParams.get("resource"),
        links: [{ rel: "self", type: "application/activity+json", href: `${origin}/users/alice` }],
      });
    }
    if (url.pathname === "/users/alice") {
      actorGets++;
      return json(res, 200, {
        id: `${origin}/users/alice`,
        type: "Person",
        preferredUsername: "alice",
        inbox: `${origin}/users/alice/inbox`,
        outbox: `${origin}/users/alice/outbox`,
        messages: `${origin}/users/alice/messages`,
      });
    }
    if (req.headers.authorization !== "Bearer tok") return json(res, 401, { error: "unauthorized" });
    if (url.pathname === "/users/alice/outbox" && req.method === "POST") {
      res.writeHead(201, { location: "/activities/1" }).end();
      return;
    }
    if (url.pathname === "/users/alice/messages") {
      if (req.headers.accept === "text/event-stream" && options.sse === "refuse") return json(res, 406, {});
      if (req.headers.accept === "text/event-stream" && options.sse === true) {
        lastEventIds.push(req.headers["last-event-id"] as string | undefined);
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(": hello\n\n");
        const last = req.headers["last-event-id"];
        const from = last === undefined ? 0 : received.findIndex((a) => a.id === last) + 1;
        for (const a of received.slice(from)) res.write(`id: ${a.id}\ndata: ${JSON.stringify(a)}\n\n`);
        streams.add(res);
        req.on("close", () => streams.delete(res));
        return;
      }
      const after = url.searchParams.get("after");
      const limit = Number(url.searchParams.get("limit") ?? options.pageSize ?? 2);
      if (after === null)
        return json(res, 200, {
          type: "OrderedCollection",
          totalItems: received.length,
          first: `${origin}/users/alice/messages?page=first`,
        });
      const from = after === "" ? 0 : received.findIndex((a) => a.id === after) + 1;
      const items = received.slice(from, from + Math.min(limit, options.pageSize ?? 2));
      const more = from + items.length < received.length;
      const last = items.at(-1)?.id;
      return json(res, 200, {
        type: "OrderedCollectionPage",
        orderedItems: items,
        ...(more && last ? { next: `${origin}/users/alice/messages?after=${encodeURIComponent(last)}` } : {}),
      });
    }
    json(res, 404, {});
  };
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fixture: Fixture = {
    origin,
    actorId: `${origin}/users/alice`,
    received,
    lastEventIds,
    actorGets: () => actorGets,
    push(n) {
      for (let i = 0; i < n; i++) {
        const a = { id: `${origin}/activities/${received.length + 1}`, type: "Create" };
        received.push(a);
        for (const s of streams) s.write(`id: ${a.id}\ndata: ${JSON.stringify(a)}\n\n`);
      }
    },
    drop() {
      for (const s of streams) s.destroy();
    },
    close: () =>
      new Promise((r) => {
        for (const s of streams) s.destroy();
        server.close(() => r());
      }),
  };
  fixtures.push(fixture);
  return fixture;
}

const client = new ActivityPubClient({
  allowPrivateAddress: true,
  plainHttpWebFinger: true,
  retry: { baseDelayMs: 1 },
});

/** Takes `n` items without closing the generator (a `break` out of `for await` would). */
async function take(items: AsyncGenerator<ReceivedItem>, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const next = await items.next();
    if (next.done) break;
    out.push(next.value.id as string);
  }
  return out;
}

describe("Account", () => {
  it("resolves a handle by WebFinger and reads the actor", async () => {
    const fixture = await startFixture({ sse: true });
    const host = new URL(fixture.origin).host;
    expect(await client.resolve(`@alice@${host}`)).toBe(fixture.actorId);
    const actor = await client.getActor(`alice@${host}`);
    expect(actor.messages).toBe(`${fixture.origin}/users/alice/messages`);
    await expect(client.resolve(`@bob@${host}`)).rejects.toMatchObject({ code: "not_found" });
  });

  it("fetches its actor once for callers that ask together, and again when told to refresh", async () => {
    const fixture = await startFixture({ sse: true });
    const account = new Account(client, fixture.actorId, "tok");
    const actors = await Promise.all([account.actor(), account.actor(), account.actor()]);
    expect(actors.map((a) => a.id)).toEqual(Array(3).fill(fixture.actorId));
    expect(fixture.actorGets()).toBe(1);
    await account.actor();
    expect(fixture.actorGets()).toBe(1);
    await account.actor({ refresh: true });
    expect(fixture.actorGets()).toBe(2);
  });

  it("fetches its actor again after a first fetch that failed", async () => {
    const fixture = await startFixture({ sse: true });
    const account = new Account(client, fixture.actorId, "tok");
    const aborted = new AbortController();
    aborted.abort();
    await expect(account.actor({ signal: aborted.signal })).rejects.toThrow();
    expect((await account.actor()).id).toBe(fixture.actorId);
  });

  it("posts to the outbox and returns the Location as the id", async () => {
    const fixture = await startFixture({ sse: true });
    const account = new Account(client, fixture.actorId, "tok");
    expect((await account.post({ type: "Note" })).id).toBe(`${fixture.origin}/activities/1`);
    const stranger = new Account(client, fixture.actorId, "wrong");
    await expect(stranger.post({ type: "Note" })).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("reads from the oldest item when there is no cursor yet", async () => {
    const fixture = await startFixture({ sse: true, pageSize: 2 });
    fixture.push(3);
    const account = new Account(client, fixture.actorId, "tok");
    const ids: string[] = [];
    for await (const item of account.catchUp()) ids.push(item.id as string);
    expect(ids).toEqual(fixture.received.map((a) => a.id));
  });

  it("catches up page by page from a cursor", async () => {
    const fixture = await startFixture({ sse: true, pageSize: 2 });
    fixture.push(5);
    const account = new Account(client, fixture.actorId, "tok");
    const ids: string[] = [];
    for await (const item of account.catchUp({ after: fixture.received[0]?.id })) ids.push(item.id as string);
    expect(ids).toEqual(fixture.received.slice(1).map((a) => a.id));
  });

  it("follows: catches up, then streams live items, resuming with Last-Event-ID after a drop", async () => {
    const fixture = await startFixture({ sse: true });
    fixture.push(3);
    const account = new Account(client, fixture.actorId, "tok");
    const controller = new AbortController();
    const modes: string[] = [];
    const items = account.follow({ signal: controller.signal, onMode: (m) => modes.push(m) });
    const first = await take(items, 3);
    expect(first).toEqual(fixture.received.map((a) => a.id));
    // Push two live while the stream is open.
    setTimeout(() => fixture.push(2), 50);
    const live = await items.next();
    const live2 = await items.next();
    expect([live.value?.id, live2.value?.id]).toEqual(fixture.received.slice(3).map((a) => a.id));
    expect(modes).toContain("stream");
    expect(fixture.lastEventIds[0]).toBe(fixture.received[2]?.id);
    // The stream drops; an item arrives meanwhile: it is paged in, and the stream resumes after it.
    fixture.drop();
    fixture.push(1);
    expect((await items.next()).value?.id).toBe(fixture.received[5]?.id);
    fixture.push(1);
    expect((await items.next()).value?.id).toBe(fixture.received[6]?.id);
    expect(fixture.lastEventIds.at(-1)).toBe(fixture.received[5]?.id);
    controller.abort();
    await items.return(undefined);
  });

  it("leaves no listener on its signal from the streams it dropped", async () => {
    const fixture = await startFixture({ sse: true });
    fixture.push(1);
    const account = new Account(client, fixture.actorId, "tok");
    const controller = new AbortController();
    const items = account.follow({ signal: controller.signal });
    await take(items, 1);
    for (let i = 0; i < 5; i++) {
      const next = items.next();
      for (let t = 0; t < 200 && fixture.lastEventIds.length <= i; t++)
        await new Promise((r) => setTimeout(r, 5));
      fixture.drop();
      fixture.push(1);
      expect((await next).value?.id).toBe(fixture.received[i + 1]?.id);
    }
    // The stream open now holds one; the five dropped ones hold none.
    expect(getEventListeners(controller.signal, "abort").length).toBeLessThanOrEqual(1);
    controller.abort();
    await items.return(undefined);
  });

  it("ends at once when aborted as it goes from catching up to the stream (a stopping daemon waits for it)", async () => {
    const fixture = await startFixture({ sse: true });
    fixture.push(2);
    const account = new Account(client, fixture.actorId, "tok");
    const controller = new AbortController();
    const items = account.follow({ signal: controller.signal, idleMs: 60_000 });
    await take(items, 2);
    // The read after the last item opens the stream; the abort comes before its request starts.
    const pending = items.next();
    controller.abort();
    expect((await pending).done).toBe(true);
    expect(fixture.lastEventIds).toEqual([]);
  });

  it.each([false, "refuse"] as const)(
    "polls when the server offers no event stream (sse: %s)",
    async (sse) => {
      const fixture = await startFixture({ sse });
      fixture.push(1);
      const account = new Account(client, fixture.actorId, "tok");
      const controller = new AbortController();
      const modes: string[] = [];
      const items = account.follow({
        signal: controller.signal,
        pollIntervalMs: 20,
        onMode: (m) => modes.push(m),
      });
      expect(await take(items, 1)).toEqual([fixture.received[0]?.id]);
      setTimeout(() => fixture.push(1), 30);
      expect((await items.next()).value?.id).toBe(fixture.received[1]?.id);
      expect(modes).toContain("poll");
      expect(modes).not.toContain("stream");
      controller.abort();
      await items.return(undefined);
    },
  );
});
