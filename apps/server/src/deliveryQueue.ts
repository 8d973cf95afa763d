import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import type { GroupCommit } from "@sotto/fedify";
import { pause, RETRY_AFTER_THROW_MS } from "./queueLoop.js";

/** How many deliveries run at once (for different ordering keys; one key's run one after another). */
const CONCURRENCY = 8;
/** How many of the oldest due messages one pass looks at. */
const WINDOW = 256;
/** Longest sleep between passes when nothing wakes the loop. */
const IDLE_MS = 1000;

/**
 * Handled messages are deleted together, in one commit (one disk sync), this long after the first of them
 * settled or once this many did: a crash redelivers at most those, and receivers store an activity once.
 */
const FORGET_MS = 50;
const FORGET_BATCH = 64;
/** How many of a key's oldest due messages the next-of-key lookup reads. */
const FOLLOW_WINDOW = 16;

interface Row {
  readonly seq: number;
  readonly ordering_key: string | null;
}

/** Moves what an earlier version left in `@fedify/sqlite`'s queue tables into ours, in their order. */
function adoptFedifySqliteQueue(db: DatabaseSync): void {
  const old = db.prepare(
    "SELECT 1 AS hit FROM sqlite_master WHERE type = 'table' AND name = 'fedify_message'",
  );
  if (old.get() === undefined) return;
  db.exec(`BEGIN IMMEDIATE;
    INSERT INTO delivery_queue (message, scheduled, ordering_key)
      SELECT message, scheduled, ordering_key FROM fedify_message ORDER BY created, scheduled;
    DROP TABLE fedify_message; DROP TABLE IF EXISTS fedify_message_locks;
    COMMIT`);
}

/**
 * Fedify's delivery queue on the server's SQLite database, for one process. Why not `@fedify/sqlite`'s queue:
 * it starts a polling loop per enqueue, each scanning every queued message of a busy ordering key (quadratic
 * under a burst, stalling the event loop for seconds), and writes three commits per delivery. Here one loop
 * runs, an enqueue only wakes it, and a message is one commit in (the post's acknowledgement, shared with the
 * other writes of its event-loop turn) and one out
 * (deleted after its handler settled, with the others that settled meanwhile, so a delivery cut short by a
 * stop is redone at the next start).
 * Messages with the same ordering key are handled one after another, in enqueue order.
 */
export class SqliteDeliveryQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #db: DatabaseSync;
  readonly #group: GroupCommit;
  readonly #insert: StatementSync;
  readonly #due: StatementSync;
  readonly #message: StatementSync;
  readonly #next: StatementSync;
  readonly #delete: StatementSync;
  readonly #retry: StatementSync;
  readonly #nextOfKey: StatementSync;
  #wake: (() => void) | undefined;

  /** `group`: the database's group commit, shared with the server's other writes (posts). */
  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#db = db;
    this.#group = group;
    db.exec(`CREATE TABLE IF NOT EXISTS delivery_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT,
      message TEXT NOT NULL, scheduled INTEGER NOT NULL, ordering_key TEXT);
      CREATE INDEX IF NOT EXISTS delivery_queue_due ON delivery_queue (scheduled);
      CREATE INDEX IF NOT EXISTS delivery_queue_key ON delivery_queue (ordering_key, seq)`);
    adoptFedifySqliteQueue(db);
    this.#insert = db.prepare(
      "INSERT INTO delivery_queue (message, scheduled, ordering_key) VALUES (?, ?, ?)",
    );
    // A pass reads only keys; a message's JSON is read when it starts.
    this.#due = db.prepare(
      "SELECT seq, ordering_key FROM delivery_queue WHERE scheduled <= ? ORDER BY seq LIMIT ?",
    );
    this.#message = db.prepare("SELECT message FROM delivery_queue WHERE seq = ?");
    this.#next = db.prepare("SELECT min(scheduled) AS at FROM delivery_queue WHERE scheduled > ?");
    this.#delete = db.prepare("DELETE FROM delivery_queue WHERE seq = ?");
    this.#retry = db.prepare("UPDATE delivery_queue SET scheduled = ? WHERE seq = ?");
    // A key's oldest due messages; a few, since the ones handled but not yet deleted come first.
    this.#nextOfKey = db.prepare(
      `SELECT seq FROM delivery_queue WHERE ordering_key = ? AND scheduled <= ? ORDER BY seq LIMIT ${FOLLOW_WINDOW}`,
    );
  }

  /** Stored with the other writes of this event-loop turn (one commit, one disk sync for all of them). */
  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    const delay = options?.delay?.total("millisecond") ?? 0;
    const json = JSON.stringify(message);
    await this.#group.write(() =>
      this.#insert.run(json, Date.now() + Math.max(0, delay), options?.orderingKey ?? null),
    );
    this.#wake?.();
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options?: MessageQueueListenOptions,
  ): Promise<void> {
    const signal = options?.signal;
    const running = new Map<number, Promise<void>>();
    const busyKeys = new Set<string>();
    // Handled messages, deleted in batches off the path from one delivery to the next (FORGET_MS).
    const settled = new Set<number>();
    const forget = (): void => {
      if (settled.size === 0) return;
      const seqs = [...settled];
      settled.clear();
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const seq of seqs) this.#delete.run(seq);
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        for (const seq of seqs) settled.add(seq);
        throw error;
      }
    };
    let forgetTimer: NodeJS.Timeout | undefined;
    const forgetSoon = (): void => {
      if (settled.size >= FORGET_BATCH) {
        clearTimeout(forgetTimer);
        forgetTimer = undefined;
      } else if (forgetTimer !== undefined) return;
      forgetTimer = setTimeout(
        () => {
          forgetTimer = undefined;
          // After a stop, the loop's last pass forgets (the database may be closing); a failed commit leaves
          // the rows to the next pass.
          if (signal?.aborted !== true) {
            try {
              forget();
            } catch {}
          }
        },
        settled.size >= FORGET_BATCH ? 0 : FORGET_MS,
      );
    };
    const start = (seq: number, key: string | null): void => {
      if (key !== null) busyKeys.add(key);
      const { message } = this.#message.get(seq) as { message: string };
      const done = Promise.resolve()
        .then(() => handler(JSON.parse(message)))
        .then(
          () => false,
          () => true, // Fedify re-enqueues failed deliveries itself; a throw is a failure of that handling
        )
        .then((failed) => {
          if (failed) {
            try {
              this.#retry.run(Date.now() + RETRY_AFTER_THROW_MS, seq);
            } catch {} // the row stays due and is redone at the next pass
          } else settled.add(seq);
          running.delete(seq);
          if (key !== null) busyKeys.delete(key);
          forgetSoon();
          // The key's next due message starts at once: a burst to one server goes one delivery right after
          // the other, not one per pass of the loop.
          if (key !== null && signal?.aborted !== true) {
            const rows = this.#nextOfKey.all(key, Date.now()) as unknown as { seq: number }[];
            const next = rows.find((row) => !settled.has(row.seq) && !running.has(row.seq));
            if (next !== undefined) return start(next.seq, key);
          }
          // A slot is free: the loop looks for other keys' messages.
          this.#wake?.();
        });
      running.set(seq, done);
    };
    while (signal?.aborted !== true) {
      const now = Date.now();
      // Oldest first; a key is blocked from its first message that cannot start, so its order holds.
      const blocked = new Set(busyKeys);
      for (const row of this.#due.all(now, WINDOW + running.size + settled.size) as unknown as Row[]) {
        if (running.size >= CONCURRENCY) break;
        if (running.has(row.seq) || settled.has(row.seq)) continue;
        const key = row.ordering_key;
        if (key !== null && blocked.has(key)) continue;
        if (key !== null) blocked.add(key);
        start(row.seq, key);
      }
      const next = (this.#next.get(now) as { at: number | null }).at;
      await pause(Math.min(IDLE_MS, next === null ? IDLE_MS : next - now), signal, (wake) => {
        this.#wake = wake;
      });
    }
    this.#wake = undefined;
    clearTimeout(forgetTimer);
    await Promise.all(running.values());
    forget();
  }
}
