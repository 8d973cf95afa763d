import { randomBytes } from "node:crypto";
import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Account, ActivityPubClient } from "@sotto/activitypub";
import { openStore, type Store } from "@sotto/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Counters } from "./counters.js";
import { createLogger } from "./log.js";
import { OutboxWorker, PIPELINE } from "./outbox.js";

/** The `n` of a `Sotto-Sequence` value. */
const seq = (value: string | undefined): number => Number(value?.split(" ")[1]);

// The outbox against a real store and a real HTTP server that fails on demand.
describe("OutboxWorker", () => {
  let dir: string;
  let store: Store;
  let server: Server;
  let origin: string;
  const posted: string[] = [];
  /** Whether a relaxed unit was still waiting for the disk when each post arrived. */
  const unflushedAtPost: boolean[] = [];
  let failures: Map<string, number>;
  /** Whether the server's actor says it keeps the order of pipelined posts. */
  let sequenced: boolean;
  /** Each post as it arrived: its `Sotto-Sequence` and how many posts were open then (itself included). */
  const arrivals: { name: string; sequence: string | undefined; open: number }[] = [];
  /** Posts held until this many are open (or `holdMs` passed), to see how many the worker has in flight. */
  let holdUntilOpen: number;
  let holdMs: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sottod-outbox-"));
    writeFileSync(join(dir, "key"), randomBytes(32), { mode: 0o600 });
    store = await openStore({
      path: join(dir, "store.db"),
      key: { keyFile: join(dir, "key") },
      durability: "normal",
    });
    posted.length = 0;
    unflushedAtPost.length = 0;
    failures = new Map();
    sequenced = false;
    arrivals.length = 0;
    holdUntilOpen = 0;
    holdMs = 1000;
    const held: (() => void)[] = [];
    let open = 0;
    server = createServer((req, res) => {
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "application/activity+json" }).end(
          JSON.stringify({
            id: `${origin}/users/a`,
            inbox: `${origin}/users/a/inbox`,
            outbox: `${origin}/users/a/outbox`,
            ...(sequenced ? { sottoSequencedOutbox: 1 } : {}),
          }),
        );
        return;
      }
      open++;
      res.on("finish", () => open--);
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", async () => {
        const name = (JSON.parse(body) as { name: string }).name;
        const sequence = req.headers["sotto-sequence"];
        arrivals.push({ name, sequence: typeof sequence === "string" ? sequence : undefined, open });
        if (open >= holdUntilOpen) for (const go of held.splice(0)) go();
        else {
          await new Promise<void>((go) => {
            held.push(go);
            setTimeout(go, holdMs);
          });
        }
        const left = failures.get(name) ?? 0;
        if (left > 0) {
          failures.set(name, left - 1);
          res.writeHead(left === 99 ? 400 : 500).end();
          return;
        }
        posted.push(name);
        unflushedAtPost.push(store.unflushed);
        res.writeHead(201).end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    store.close();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  function worker(now: () => number) {
    const account = new Account(
      new ActivityPubClient({ allowPrivateAddress: true }),
      `${origin}/users/a`,
      "t",
    );
    return new OutboxWorker(store, account, createLogger({ write: () => {} }), new Counters(), {
      policy: { baseDelayMs: 1000, maxDelayMs: 1000, maxAttempts: 3 },
      now,
    });
  }

  const enqueue = (id: string, conversation: string, messageId?: string, purpose = "message") =>
    store.apply({
      outbox: [
        {
          op: "enqueue",
          id,
          conversation,
          payload: { activity: { name: id }, purpose, ...(messageId ? { messageId } : {}) },
        },
      ],
    });

  it("posts one at a time, unnumbered, to a server that does not say it keeps the order", async () => {
    for (const id of ["1-a", "2-a", "3-b"]) enqueue(id, id.slice(2));
    holdUntilOpen = 2;
    holdMs = 300;
    await worker(Date.now).flush();
    expect(arrivals.map((a) => [a.name, a.sequence, a.open])).toEqual([
      ["1-a", undefined, 1],
      ["2-a", undefined, 1],
      ["3-b", undefined, 1],
    ]);
  });

  it("pipelines application messages to a server that keeps their order; anything else goes alone", async () => {
    sequenced = true;
    holdUntilOpen = PIPELINE;
    // Windows of four messages each, so that only the handshake waits out its hold.
    const messages = (from: number) => Array.from({ length: 4 }, (_, i) => `m${from + i}`);
    const queued = [...messages(1), ...messages(5), "h1", ...messages(9)];
    for (const id of queued) enqueue(id, "A", undefined, id.startsWith("h") ? "handshake" : "message");
    await worker(Date.now).flush();
    expect(store.outbox("sent")).toHaveLength(queued.length);
    // Numbered in queue order, one stream.
    const numbers = arrivals.map((a) => a.sequence?.split(" ") ?? []);
    const byNumber = [...arrivals].sort((x, y) => seq(x.sequence) - seq(y.sequence)).map((a) => a.name);
    expect(byNumber).toEqual(queued);
    expect(new Set(numbers.map(([stream]) => stream)).size).toBe(1);
    const open = Object.fromEntries(arrivals.map((a) => [a.name, a.open]));
    // Four messages in flight at once, not more; the handshake after all before it settled, and alone.
    expect(Math.max(...arrivals.map((a) => a.open))).toBe(PIPELINE);
    expect(open.h1).toBe(1);
    const at = (name: string) => arrivals.findIndex((a) => a.name === name);
    expect(Math.max(...[...messages(1), ...messages(5)].map(at))).toBeLessThan(at("h1"));
    expect(at("h1")).toBeLessThan(Math.min(...messages(9).map(at)));
  });

  it("leaves no abort listener behind on the daemon's signal, however often it is woken", async () => {
    const controller = new AbortController();
    const w = worker(Date.now);
    const running = w.run(controller.signal);
    for (let i = 0; i < 50; i++) {
      enqueue(`m-${i}`, "A");
      w.wake();
      for (let t = 0; t < 200 && posted.length <= i; t++) await new Promise((r) => setTimeout(r, 5));
    }
    expect(posted).toHaveLength(50);
    // The worker's own pause holds one listener at most (each request's are removed when it ends).
    expect(getEventListeners(controller.signal, "abort").length).toBeLessThanOrEqual(1);
    controller.abort();
    await running;
  });

  it("marks an item sent without waiting for the disk (a power loss may only make it post again)", async () => {
    store.close();
    store = await openStore({ path: join(dir, "full.db"), key: { keyFile: join(dir, "key") } });
    enqueue("1-a", "A");
    expect(store.unflushed).toBe(false);
    await worker(Date.now).flush();
    expect(posted).toEqual(["1-a"]);
    expect(store.outbox("sent").map((i) => i.id)).toEqual(["1-a"]);
    expect(store.unflushed).toBe(true);
  });

  it("posts an item only once the unit that queued it is on disk, one sync for all queued meanwhile", async () => {
    store.close();
    store = await openStore({ path: join(dir, "full.db"), key: { keyFile: join(dir, "key") } });
    for (const id of ["1-a", "1-b"]) {
      store.apply(
        { outbox: [{ op: "enqueue", id, conversation: "A", payload: { activity: { name: id } } }] },
        { durable: false },
      );
    }
    expect(store.unflushed).toBe(true);
    await worker(Date.now).flush();
    expect(posted).toEqual(["1-a", "1-b"]);
    // The first post synced both units; its own sent mark (relaxed) waited for the second post's sync.
    expect(unflushedAtPost).toEqual([false, false]);
  });

  it("keeps a conversation in order behind a retry, without holding up the others", async () => {
    enqueue("1-a", "A");
    enqueue("2-a", "A");
    enqueue("3-b", "B");
    let clock = Date.now();
    failures.set("1-a", 1);
    const w = worker(() => clock);
    await w.flush();
    expect(posted).toEqual(["3-b"]);
    expect(store.outbox("queued").map((i) => i.id)).toEqual(["1-a", "2-a"]);
    clock += 2_000;
    await w.flush();
    expect(posted).toEqual(["3-b", "1-a", "2-a"]);
    expect(store.outbox("sent")).toHaveLength(3);
  });

  it("gets a long conversation going again after its first item's retry, without starving the others", async () => {
    const names = Array.from({ length: 150 }, (_, i) => `a-${String(i).padStart(3, "0")}`);
    for (const name of names) enqueue(name, "A");
    enqueue("b-0", "B");
    failures.set("a-000", 1);
    let clock = Date.now();
    const w = worker(() => clock);
    await w.flush();
    expect(posted).toEqual(["b-0"]);
    clock += 2_000;
    await w.flush();
    expect(posted).toEqual(["b-0", ...names]);
  });

  it("waits for a retried head's next attempt when it fails again, not a minute", async () => {
    enqueue("1-a", "A");
    failures.set("1-a", 2);
    let clock = Date.now();
    const w = worker(() => clock);
    expect(await w.flush()).toBeLessThanOrEqual(1_000);
    clock += 2_000;
    // The head failed again: the next attempt is due within its backoff (the worker slept 60 s here).
    expect(await w.flush()).toBeLessThanOrEqual(1_000);
    clock += 2_000;
    await w.flush();
    expect(posted).toEqual(["1-a"]);
  });

  it("marks an item failed after its attempts, or at once on an error retrying cannot fix", async () => {
    let clock = Date.now();
    store.apply({
      messages: [
        { id: "m1", conversation: "A", author: "x", at: 1, direction: "out", state: "queued", body: {} },
        { id: "m2", conversation: "B", author: "x", at: 1, direction: "out", state: "queued", body: {} },
      ],
    });
    enqueue("1-a", "A", "m1");
    enqueue("2-b", "B", "m2");
    failures.set("1-a", 10);
    failures.set("2-b", 99); // a 400: refused for good
    const w = worker(() => clock);
    for (let i = 0; i < 4; i++) {
      await w.flush();
      clock += 2_000;
    }
    expect(
      store
        .outbox("failed")
        .map((i) => i.id)
        .sort(),
    ).toEqual(["1-a", "2-b"]);
    expect(store.message("m1")?.state).toBe("failed");
    expect(store.message("m2")?.state).toBe("failed");
    expect(store.outboxItem("2-b")?.attempts).toBe(1);
    expect(store.outboxItem("1-a")?.attempts).toBe(3);
  });
});
