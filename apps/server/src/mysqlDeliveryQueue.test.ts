// The MariaDB delivery queue with two workers on one table (MariaDB project: a fresh database): one ordering
// key's messages run one at a time across both, in enqueue order, each once; a worker that dies mid-delivery
// leaves its message to the other, which runs it before the key's later messages; a handler that throws
// leaves its message to be tried again.
import { createPool, type Pool } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MysqlDeliveryQueue } from "./mysqlDeliveryQueue.js";
import { freshDatabase } from "./testing/mariadb.js";
import { handlerThrowsOnce } from "./testkit/queues.js";

interface Item {
  readonly key: string | null;
  readonly n: number;
}

describe("MysqlDeliveryQueue", () => {
  let url: string;
  const pools: Pool[] = [];
  const pool = (): Pool => {
    const p = createPool({ uri: url, connectionLimit: 12 });
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    url = await freshDatabase(); // dropped by the project's cleanup
  });

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
  });

  it("runs each key's messages one at a time across two workers, in order, each once", async () => {
    const keys = ["bob\nhttp://a", "bob\nhttp://b", "carol\nhttp://a", null];
    const items: Item[] = Array.from({ length: 80 }, (_, n) => ({ key: keys[n % 4] ?? null, n }));
    const producer = new MysqlDeliveryQueue(pool());
    const handled: Item[] = [];
    const runningPerKey = new Map<string, number>();
    let overlap = 0;
    let finished: () => void = () => undefined;
    const all = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const handler = async (message: unknown) => {
      const item = message as Item;
      const key = String(item.key);
      runningPerKey.set(key, (runningPerKey.get(key) ?? 0) + 1);
      if (item.key !== null && (runningPerKey.get(key) ?? 0) > 1) overlap++;
      await new Promise((resolve) => setTimeout(resolve, item.n % 5));
      runningPerKey.set(key, (runningPerKey.get(key) ?? 0) - 1);
      handled.push(item);
      if (handled.length === items.length) finished();
    };
    for (const item of items) {
      await producer.enqueue(item, item.key === null ? undefined : { orderingKey: item.key });
    }
    const abort = new AbortController();
    const workers = [new MysqlDeliveryQueue(pool()), new MysqlDeliveryQueue(pool())].map((queue) =>
      queue.listen(handler, { signal: abort.signal }),
    );
    await all;
    abort.abort();
    await Promise.all(workers);
    expect(overlap).toBe(0);
    expect(handled.map((i) => i.n).sort((x, y) => x - y)).toEqual(items.map((i) => i.n));
    for (const key of keys.filter((k) => k !== null)) {
      const order = handled.filter((i) => i.key === key).map((i) => i.n);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    const [rows] = await (pools[0] as Pool).query("SELECT count(*) AS n FROM delivery_queue");
    expect((rows as { n: number }[])[0]?.n).toBe(0);
  });

  it("hands a message whose worker died mid-delivery to the other worker, before the key's next one", async () => {
    const key = "dave\nhttp://a";
    const producer = new MysqlDeliveryQueue(pool());
    await producer.enqueue({ n: 1 }, { orderingKey: key });
    await producer.enqueue({ n: 2 }, { orderingKey: key });
    // Worker 1 takes message 1 and never finishes; then its connections drop, as when the process is killed.
    const doomedPool = pool();
    let started: () => void = () => undefined;
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const doomed = new AbortController();
    void new MysqlDeliveryQueue(doomedPool).listen(
      () => {
        started();
        return new Promise<void>(() => undefined);
      },
      { signal: doomed.signal },
    );
    await handlerStarted;
    // Worker 2 meanwhile finds the key busy: nothing of it may run.
    const seen: number[] = [];
    let done: () => void = () => undefined;
    const both = new Promise<void>((resolve) => {
      done = resolve;
    });
    const abort = new AbortController();
    const survivor = new MysqlDeliveryQueue(pool()).listen(
      (message) => {
        seen.push((message as { n: number }).n);
        if (seen.length === 2) done();
      },
      { signal: abort.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seen).toEqual([]);
    doomed.abort();
    await doomedPool.end();
    await both;
    abort.abort();
    await survivor;
    expect(seen).toEqual([1, 2]);
  });
  it("keeps a message whose handler threw and tries it again", async () => {
    const db = pool();
    expect(await handlerThrowsOnce(new MysqlDeliveryQueue(db))).toEqual({ outcome: "delivered", calls: 2 });
    const [rows] = await db.query("SELECT COUNT(*) AS n FROM delivery_queue");
    expect(Number((rows as { n: number }[])[0]?.n)).toBe(0);
  }, 120_000);
});
