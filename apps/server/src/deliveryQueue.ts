import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import type { GroupCommit } from "@sotto/fedify";
import { pause } from "@sotto/shared/pause";
import { SEQUENCE_HEADER, SequenceStream } from "@sotto/shared/sequence";
import { RETRY_AFTER_THROW_MS } from "./queueLoop.js";

/** How many deliveries run at once. */
const CONCURRENCY = 8;
/**
 * How many of one ordering key's deliveries run at once when its receiver keeps their order (`sequenced`,
 * deliveryOrder.ts): the sender signs and sends the next ones while the receiver checks and stores the first.
 * Other keys' deliveries run one at a time.
 */
const PIPELINE = 4;
/** How many of the oldest due messages one pass looks at. */
const WINDOW = 256;
/** Longest sleep between passes when nothing wakes the loop. */
const IDLE_MS = 1000;

/**
 * Handled messages are deleted together, in one commit shared with the other writes of its turn, this long
 * after the first of them settled or once this many did: a crash redelivers at most those, and receivers
 * store an activity once.
 */
const FORGET_MS = 50;
const FORGET_BATCH = 64;
/** How many of a key's oldest due messages the next-of-key lookup reads. */
const FOLLOW_WINDOW = 32;

interface Row {
  readonly seq: number;
  readonly ordering_key: string | null;
  readonly sequenced: number;
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
 * Messages with the same ordering key are handled one after another, in enqueue order; `sequenced` ones (their
 * receiver keeps the order, deliveryOrder.ts) up to {@link PIPELINE} at once, numbered in that order.
 */
export class SqliteDeliveryQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #group: GroupCommit;
  readonly #insert: StatementSync;
  readonly #due: StatementSync;
  readonly #message: StatementSync;
  readonly #next: StatementSync;
  readonly #delete: StatementSync;
  readonly #retry: StatementSync;
  readonly #nextOfKey: StatementSync;
  #wake: (() => void) | undefined;
  /** Messages being handled (Fedify's message id), with their ordering key. */
  readonly #handling = new Map<string, string>();
  /** Ids of those that Fedify queued again while handling them (the delivery failed, or the circuit held it). */
  readonly #cameBack = new Set<string>();
  /**
   * Keys whose last delivery came back: one at a time until one goes through. Pipelined past a failure or an
   * open circuit, the deliveries behind it would be sent (or held) while it waits for its retry or probe.
   */
  readonly #faltering = new Set<string>();

  /** `group`: the database's group commit, shared with the server's other writes (posts). */
  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#group = group;
    db.exec(`CREATE TABLE IF NOT EXISTS delivery_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT,
      message TEXT NOT NULL, scheduled INTEGER NOT NULL, ordering_key TEXT,
      sequenced INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS delivery_queue_due ON delivery_queue (scheduled);
      CREATE INDEX IF NOT EXISTS delivery_queue_key ON delivery_queue (ordering_key, seq)`);
    // Queues made before pipelining had no such column: their messages go one at a time.
    const columns = db.prepare("PRAGMA table_info(delivery_queue)").all() as unknown as { name: string }[];
    if (!columns.some((c) => c.name === "sequenced")) {
      db.exec("ALTER TABLE delivery_queue ADD COLUMN sequenced INTEGER NOT NULL DEFAULT 0");
    }
    adoptFedifySqliteQueue(db);
    this.#insert = db.prepare(
      "INSERT INTO delivery_queue (message, scheduled, ordering_key, sequenced) VALUES (?, ?, ?, ?)",
    );
    // A pass reads only keys; a message's JSON is read when it starts.
    this.#due = db.prepare(
      "SELECT seq, ordering_key, sequenced FROM delivery_queue WHERE scheduled <= ? ORDER BY seq LIMIT ?",
    );
    this.#message = db.prepare("SELECT message FROM delivery_queue WHERE seq = ?");
    this.#next = db.prepare("SELECT min(scheduled) AS at FROM delivery_queue WHERE scheduled > ?");
    this.#delete = db.prepare("DELETE FROM delivery_queue WHERE seq = ?");
    this.#retry = db.prepare("UPDATE delivery_queue SET scheduled = ? WHERE seq = ?");
    // A key's oldest due messages; a few, since the ones handled but not yet deleted come first.
    this.#nextOfKey = db.prepare(
      `SELECT seq, ordering_key, sequenced FROM delivery_queue WHERE ordering_key = ? AND scheduled <= ? ORDER BY seq LIMIT ${FOLLOW_WINDOW}`,
    );
  }

  /** Stored with the other writes of this event-loop turn (one commit, one disk sync for all of them). */
  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    const delay = options?.delay?.total("millisecond") ?? 0;
    const json = JSON.stringify(message);
    const { id, sequenced: isSequenced } = message as { id?: unknown; sequenced?: unknown };
    const sequenced = isSequenced === true ? 1 : 0;
    const comingBack = typeof id === "string" ? this.#handling.get(id) : undefined;
    if (comingBack !== undefined) {
      this.#cameBack.add(id as string);
      this.#faltering.add(comingBack);
    }
    await this.#group.write(() =>
      this.#insert.run(json, Date.now() + Math.max(0, delay), options?.orderingKey ?? null, sequenced),
    );
    this.#wake?.();
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options?: MessageQueueListenOptions,
  ): Promise<void> {
    const signal = options?.signal;
    const running = new Map<number, Promise<void>>();
    // Per ordering key: deliveries in flight, and whether all of them are sequenced (others may join them).
    const inFlight = new Map<string, { count: number; sequenced: boolean }>();
    // A key's numbering of its pipelined deliveries (deliveryOrder.ts), while it has any in flight.
    const streams = new Map<string, SequenceStream>();
    const canStart = (row: Row): boolean => {
      if (row.ordering_key === null) return true;
      const flight = inFlight.get(row.ordering_key);
      const depth = this.#faltering.has(row.ordering_key) ? 1 : PIPELINE;
      return flight === undefined || (row.sequenced === 1 && flight.sequenced && flight.count < depth);
    };
    // Handled messages, deleted in batches off the path from one delivery to the next (FORGET_MS).
    const settled = new Set<number>();
    // With the other writes of its event-loop turn (posts, enqueues): no disk sync of its own. The rows stay
    // in `settled` until they are gone, so that no pass starts them again meanwhile.
    const forgetting = new Set<number>();
    const forget = async (): Promise<void> => {
      const seqs = [...settled].filter((seq) => !forgetting.has(seq));
      if (seqs.length === 0) return;
      for (const seq of seqs) forgetting.add(seq);
      try {
        await this.#group.write(() => {
          for (const seq of seqs) this.#delete.run(seq);
        });
        for (const seq of seqs) settled.delete(seq);
      } finally {
        for (const seq of seqs) forgetting.delete(seq);
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
          if (signal?.aborted !== true) forget().catch(() => undefined);
        },
        settled.size >= FORGET_BATCH ? 0 : FORGET_MS,
      );
    };
    /** Numbers a sequenced delivery in its key's stream (a new stream once the key had none in flight). */
    const number = (key: string, message: { headers?: Record<string, string> }): number => {
      let stream = streams.get(key);
      if (stream === undefined) {
        stream = new SequenceStream();
        streams.set(key, stream);
      }
      const { n, header } = stream.next();
      message.headers = { ...message.headers, [SEQUENCE_HEADER]: header };
      return n;
    };
    const start = (row: Row): void => {
      const { seq, ordering_key: key } = row;
      const sequenced = row.sequenced === 1 && key !== null;
      if (key !== null) {
        const flight = inFlight.get(key);
        inFlight.set(key, {
          count: (flight?.count ?? 0) + 1,
          sequenced: sequenced && (flight?.sequenced ?? true),
        });
      }
      const { message: json } = this.#message.get(seq) as { message: string };
      const message = JSON.parse(json) as { id?: unknown; headers?: Record<string, string> };
      const id = typeof message.id === "string" && key !== null ? message.id : undefined;
      if (id !== undefined) this.#handling.set(id, key as string);
      // A retry is numbered anew: its earlier number settled when it failed.
      const n = sequenced ? number(key, message) : 0;
      const done = Promise.resolve()
        .then(() => handler(message))
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
          if (id !== undefined) {
            this.#handling.delete(id);
            // Went through (or was given up): the key may pipeline again.
            if (this.#cameBack.delete(id) || failed) this.#faltering.add(key as string);
            else this.#faltering.delete(key as string);
          }
          if (key !== null) {
            if (sequenced) streams.get(key)?.settle(n);
            const flight = inFlight.get(key) as { count: number; sequenced: boolean };
            if (flight.count > 1) inFlight.set(key, { ...flight, count: flight.count - 1 });
            else {
              inFlight.delete(key);
              streams.delete(key);
            }
          }
          forgetSoon();
          // The key's next due messages start at once: a burst to one server goes one delivery right after
          // the other, not one per pass of the loop.
          let followed = false;
          if (key !== null && signal?.aborted !== true) {
            for (const next of this.#nextOfKey.all(key, Date.now()) as unknown as Row[]) {
              if (settled.has(next.seq) || running.has(next.seq)) continue;
              if (running.size >= CONCURRENCY || !canStart(next)) break;
              start(next);
              followed = true;
            }
          }
          // A slot is free: the loop looks for other keys' messages.
          if (!followed) this.#wake?.();
        });
      running.set(seq, done);
    };
    while (signal?.aborted !== true) {
      const now = Date.now();
      // Oldest first; a key is blocked from its first message that cannot start, so its order holds.
      const blocked = new Set<string>();
      for (const row of this.#due.all(now, WINDOW + running.size + settled.size) as unknown as Row[]) {
        if (running.size >= CONCURRENCY) break;
        if (running.has(row.seq) || settled.has(row.seq)) continue;
        const key = row.ordering_key;
        if (key !== null && (blocked.has(key) || !canStart(row))) {
          blocked.add(key);
          continue;
        }
        start(row);
      }
      const next = (this.#next.get(now) as { at: number | null }).at;
      await pause(Math.min(IDLE_MS, next === null ? IDLE_MS : next - now), signal, (wake) => {
        this.#wake = wake;
      });
    }
    this.#wake = undefined;
    clearTimeout(forgetTimer);
    await Promise.all(running.values());
    await forget();
  }
}
