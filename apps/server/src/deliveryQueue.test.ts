// The delivery queue on a real SQLite file: one ordering key's messages run one after another in enqueue
// order, and a message leaves the queue only once its handler settled; one whose handler threw is tried again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { GroupCommit } from "@sotto/fedify";
import { parseSequence, SEQUENCE_HEADER } from "@sotto/shared/sequence";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteDeliveryQueue } from "./deliveryQueue.js";
import { handlerThrowsOnce } from "./testkit/queues.js";

interface Item {
  readonly key: string | null;
  readonly n: number;
}

describe("SqliteDeliveryQueue", () => {
  let dir: string;
  const open = () => new DatabaseSync(join(dir, "queue.sqlite"));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sotto-queue-"));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps each ordering key's messages in order, one at a time, and handles each once", async () => {
    const db = open();
    const queue = new SqliteDeliveryQueue(db, new GroupCommit(db));
    const keys = ["bob\nhttp://a", "bob\nhttp://b", null];
    const items: Item[] = Array.from({ length: 90 }, (_, n) => ({ key: keys[n % 3] ?? null, n }));
    const handled: Item[] = [];
    const runningPerKey = new Map<string, number>();
    let overlapSameKey = 0;
    const abort = new AbortController();
    const { promise: all, resolve: finished } = Promise.withResolvers<void>();
    const listening = queue.listen(
      async (message) => {
        const item = message as Item;
        const key = String(item.key);
        runningPerKey.set(key, (runningPerKey.get(key) ?? 0) + 1);
        if (item.key !== null && (runningPerKey.get(key) ?? 0) > 1) overlapSameKey++;
        await new Promise((resolve) => setTimeout(resolve, item.n % 4));
        runningPerKey.set(key, (runningPerKey.get(key) ?? 0) - 1);
        handled.push(item);
        if (handled.length === items.length) finished();
      },
      { signal: abort.signal },
    );
    for (const item of items) {
      await queue.enqueue(item, item.key === null ? undefined : { orderingKey: item.key });
    }
    await all;
    abort.abort();
    await listening;
    expect(overlapSameKey).toBe(0);
    expect(handled.map((i) => i.n).sort((x, y) => x - y)).toEqual(items.map((i) => i.n));
    for (const key of keys.slice(0, 2)) {
      const order = handled.filter((i) => i.key === key).map((i) => i.n);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    expect((db.prepare("SELECT count(*) AS n FROM delivery_queue").get() as { n: number }).n).toBe(0);
    db.close();
  });

  it("pipelines a sequenced key's messages, numbered in enqueue order, and keeps other keys one at a time", async () => {
    const db = open();
    const queue = new SqliteDeliveryQueue(db, new GroupCommit(db));
    interface Message {
      readonly key: string;
      readonly n: number;
      readonly sequenced: boolean;
      readonly headers: Record<string, string>;
    }
    const keys = [
      { key: "bob\nhttp://sotto", sequenced: true },
      { key: "bob\nhttp://other", sequenced: false },
    ];
    const messages: Message[] = Array.from({ length: 40 }, (_, n) => ({
      ...(keys[n % 2] as { key: string; sequenced: boolean }),
      n,
      headers: {},
    }));
    const started: Message[] = [];
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    const abort = new AbortController();
    const { promise: all, resolve: finished } = Promise.withResolvers<void>();
    let handled = 0;
    const listening = queue.listen(
      async (message) => {
        const m = message as Message;
        started.push(m);
        running.set(m.key, (running.get(m.key) ?? 0) + 1);
        most.set(m.key, Math.max(most.get(m.key) ?? 0, running.get(m.key) ?? 0));
        await new Promise((resolve) => setTimeout(resolve, 10 + (m.n % 3) * 5));
        running.set(m.key, (running.get(m.key) ?? 0) - 1);
        if (++handled === messages.length) finished();
      },
      { signal: abort.signal },
    );
    await Promise.all(messages.map((m) => queue.enqueue(m, { orderingKey: m.key })));
    await all;
    abort.abort();
    await listening;
    const [sotto, other] = keys.map(({ key }) => started.filter((m) => m.key === key));
    // Several in flight at once for the receiver that keeps the order, never more than the pipeline's depth.
    expect(most.get(keys[0]?.key as string)).toBeGreaterThan(1);
    expect(most.get(keys[0]?.key as string)).toBeLessThanOrEqual(4);
    expect(most.get(keys[1]?.key as string)).toBe(1);
    for (const list of [sotto, other]) {
      expect(list?.map((m) => m.n)).toEqual(list?.map((m) => m.n).sort((x, y) => x - y));
    }
    // Numbered 1, 2, 3 ... in start order within a stream; what settled before (`done`) never goes back.
    const sequences = (sotto ?? []).map((m) => parseSequence(m.headers[SEQUENCE_HEADER] ?? null));
    expect(sequences.every((s) => s !== undefined)).toBe(true);
    let previous: { stream: string; n: number; done: number } | undefined;
    for (const s of sequences) {
      if (s === undefined) continue;
      const same = previous?.stream === s.stream;
      expect(s.n).toBe(same ? (previous?.n ?? 0) + 1 : 1);
      expect(s.done).toBeGreaterThanOrEqual(same ? (previous?.done ?? 0) : 0);
      expect(s.done).toBeLessThan(s.n);
      previous = s;
    }
    expect((other ?? []).every((m) => m.headers[SEQUENCE_HEADER] === undefined)).toBe(true);
    db.close();
  });

  it("runs a sequenced key one at a time after a delivery came back, until one goes through", async () => {
    const db = open();
    const queue = new SqliteDeliveryQueue(db, new GroupCommit(db));
    const key = "bob\nhttp://sotto";
    interface Message {
      readonly id: string;
      readonly attempt: number;
      readonly sequenced: true;
      readonly headers: Record<string, string>;
    }
    const messages: Message[] = Array.from({ length: 12 }, (_, n) => ({
      id: `m${n}`,
      attempt: 0,
      sequenced: true,
      headers: {},
    }));
    let running = 0;
    let cameBack = false;
    let wentThrough = false;
    // How many ran at once whenever one started after a delivery came back and before one went through.
    const whileFaltering: number[] = [];
    let handled = 0;
    const abort = new AbortController();
    const { promise: all, resolve: finished } = Promise.withResolvers<void>();
    const listening = queue.listen(
      async (message) => {
        const m = message as Message;
        running++;
        if (cameBack && !wentThrough) whileFaltering.push(running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        // As Fedify does with a failed or circuit-held delivery: the same message queued again.
        if (m.attempt === 0) {
          cameBack = true;
          await queue.enqueue({ ...m, attempt: 1 }, { orderingKey: key });
        } else {
          wentThrough = true;
          handled++;
        }
        running--;
        if (handled === messages.length) finished();
      },
      { signal: abort.signal },
    );
    await Promise.all(messages.map((m) => queue.enqueue(m, { orderingKey: key })));
    await all;
    abort.abort();
    await listening;
    expect(whileFaltering.length).toBeGreaterThan(0);
    expect(Math.max(...whileFaltering)).toBe(1);
    db.close();
  });

  it("keeps a message whose handler had not settled when the process stopped, and runs it at the next start", async () => {
    const first = open();
    const stopped = new SqliteDeliveryQueue(first, new GroupCommit(first));
    await stopped.enqueue({ n: 1 }, { orderingKey: "bob\nhttp://a" });
    await stopped.enqueue({ n: 2 }, { orderingKey: "bob\nhttp://a" });
    const abort = new AbortController();
    let started: () => void = () => undefined;
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    // A delivery that never finishes (the process stops during it); the loop is deliberately not awaited.
    void stopped.listen(
      () => {
        started();
        return new Promise<void>(() => undefined);
      },
      { signal: abort.signal },
    );
    await handlerStarted;
    abort.abort();
    first.close();

    const second = open();
    const restarted = new SqliteDeliveryQueue(second, new GroupCommit(second));
    const handled: number[] = [];
    const again = new AbortController();
    const listening = restarted.listen(
      (message) => {
        handled.push((message as { n: number }).n);
        if (handled.length === 2) again.abort();
      },
      { signal: again.signal },
    );
    await listening;
    expect(handled).toEqual([1, 2]);
    second.close();
  });

  it("adopts, in order, what an earlier version left in @fedify/sqlite's queue tables", async () => {
    const db = open();
    db.exec(`CREATE TABLE fedify_message (id TEXT PRIMARY KEY, message TEXT NOT NULL, created INTEGER NOT NULL,
      scheduled INTEGER NOT NULL, ordering_key TEXT); CREATE TABLE fedify_message_locks (ordering_key TEXT PRIMARY KEY)`);
    const insert = db.prepare("INSERT INTO fedify_message VALUES (?, ?, ?, ?, ?)");
    insert.run("b", JSON.stringify({ n: 2 }), 2, 2, "k");
    insert.run("a", JSON.stringify({ n: 1 }), 1, 1, "k");
    db.exec("INSERT INTO fedify_message_locks VALUES ('k')");
    const queue = new SqliteDeliveryQueue(db, new GroupCommit(db));
    const handled: number[] = [];
    const abort = new AbortController();
    await queue.listen(
      (message) => {
        handled.push((message as { n: number }).n);
        if (handled.length === 2) abort.abort();
      },
      { signal: abort.signal },
    );
    expect(handled).toEqual([1, 2]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'fedify_message%'").all()).toEqual([]);
    db.close();
  });
  it("keeps a message whose handler threw and tries it again", async () => {
    const db = open();
    expect(await handlerThrowsOnce(new SqliteDeliveryQueue(db, new GroupCommit(db)))).toEqual({
      outcome: "delivered",
      calls: 2,
    });
    expect((db.prepare("SELECT COUNT(*) AS n FROM delivery_queue").get() as { n: number }).n).toBe(0);
    db.close();
  }, 120_000);
});
