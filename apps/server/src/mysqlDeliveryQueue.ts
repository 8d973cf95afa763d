import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import { pause } from "@sotto/shared/pause";
import type { Pool, PoolConnection, RowDataPacket } from "mysql2/promise";
import { RETRY_AFTER_THROW_MS } from "./queueLoop.js";

/** How many deliveries one process runs at once (for different ordering keys). */
const CONCURRENCY = 8;
/** How many of the oldest due messages one pass looks at. */
const WINDOW = 256;
/**
 * How often an idle worker looks for work: other processes' enqueues cannot wake it (MariaDB has no
 * LISTEN/NOTIFY), so this bounds a lone message's wait. One indexed query per poll.
 */
const POLL_MS = 100;

// A row another worker holds: MariaDB's NOWAIT answers "lock wait timeout", MySQL 8 its own code; a deadlock
// victim is rolled back. Each means "not now" for that message.
const LOCK_BUSY = new Set([1205, 3572, 1213]);

interface Row extends RowDataPacket {
  readonly seq: number;
  readonly ordering_key: string | null;
}

interface Claimed extends RowDataPacket {
  readonly seq: number;
  readonly message: string;
}

/** A message this worker holds (its row locked in an open transaction) while the handler delivers it. */
interface Claim {
  readonly connection: PoolConnection;
  readonly seq: number;
  readonly message: string;
}

/**
 * Fedify's delivery queue on MariaDB/MySQL, for any number of worker processes on one database, with the
 * SQLite queue's guarantees: a message leaves the table only after its handler settled, and one ordering
 * key's messages run one after another, in enqueue order, across all workers. While a worker delivers a
 * message it holds that row locked in an open transaction; if the worker dies (even SIGKILL), its connection
 * drops, MariaDB rolls back, and another worker redoes the message (receivers store an activity once).
 * Why not `@fedify/mysql`'s `MysqlMessageQueue`: it deletes and commits a message before running its handler,
 * so a worker killed mid-delivery loses that activity, and it runs one handler at a time per process.
 */
export class MysqlDeliveryQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #pool: Pool;
  #ready: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /** `pool` needs a connection per running delivery ({@link CONCURRENCY}) beside the server's own use. */
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Creates the table when missing (idempotent; every process may call it). */
  initialize(): Promise<void> {
    this.#ready ??= this.#pool
      .query(
        `CREATE TABLE IF NOT EXISTS delivery_queue (
          seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
          message LONGTEXT NOT NULL,
          scheduled BIGINT NOT NULL,
          ordering_key VARCHAR(512) NULL,
          KEY delivery_queue_due (scheduled),
          KEY delivery_queue_key (ordering_key, seq)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      )
      .then(() => undefined);
    return this.#ready;
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    await this.initialize();
    const delay = options?.delay?.total("millisecond") ?? 0;
    await this.#pool.query("INSERT INTO delivery_queue (message, scheduled, ordering_key) VALUES (?, ?, ?)", [
      JSON.stringify(message),
      Date.now() + Math.max(0, delay),
      options?.orderingKey ?? null,
    ]);
    this.#wake?.();
  }

  /**
   * Locks a due message: the one with `seq` (no ordering key), or the oldest due one of `key`, unless another
   * worker holds it (then that key is busy elsewhere and waits: its order holds across workers).
   */
  async #claim(key: string | null, seq: number): Promise<Claim | undefined> {
    const connection = await this.#pool.getConnection();
    try {
      // Read committed: record locks only, so enqueues of the same key are never blocked by a gap lock.
      await connection.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
      await connection.beginTransaction();
      const [rows] =
        key === null
          ? await connection.query<Claimed[]>(
              "SELECT seq, message FROM delivery_queue WHERE seq = ? FOR UPDATE SKIP LOCKED",
              [seq],
            )
          : await connection.query<Claimed[]>(
              `SELECT seq, message FROM delivery_queue WHERE ordering_key = ? AND scheduled <= ?
                 ORDER BY seq LIMIT 1 FOR UPDATE NOWAIT`,
              [key, Date.now()],
            );
      const row = rows[0];
      if (row === undefined) {
        await connection.rollback();
        connection.release();
        return undefined;
      }
      return { connection, seq: Number(row.seq), message: row.message };
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      connection.release();
      if (LOCK_BUSY.has((error as { errno?: number }).errno ?? 0)) return undefined;
      throw error;
    }
  }

  /**
   * Deletes a handled message and ends its transaction (which releases the row); one whose handler threw stays,
   * due again after {@link RETRY_AFTER_THROW_MS}.
   */
  async #finish(claim: Claim, failed: boolean): Promise<void> {
    try {
      if (failed)
        await claim.connection.query("UPDATE delivery_queue SET scheduled = ? WHERE seq = ?", [
          Date.now() + RETRY_AFTER_THROW_MS,
          claim.seq,
        ]);
      else await claim.connection.query("DELETE FROM delivery_queue WHERE seq = ?", [claim.seq]);
      await claim.connection.commit();
    } catch {
      // The row stays (or comes back with the rollback): the message is redone, and delivered once.
      await claim.connection.rollback().catch(() => undefined);
    } finally {
      claim.connection.release();
    }
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options?: MessageQueueListenOptions,
  ): Promise<void> {
    await this.initialize();
    const signal = options?.signal;
    const stopped = (): boolean => signal?.aborted === true;
    const running = new Set<Promise<void>>();
    const busyKeys = new Set<string>();
    const runningSeqs = new Set<number>();
    const deliver = (claim: Claim, key: string | null): void => {
      if (key !== null) busyKeys.add(key);
      runningSeqs.add(claim.seq);
      const done: Promise<void> = Promise.resolve()
        .then(() => handler(JSON.parse(claim.message)))
        .then(
          () => false,
          () => true, // Fedify re-enqueues failed deliveries itself; a throw is a failure of that handling
        )
        .then((failed) => this.#finish(claim, failed))
        .then(async () => {
          runningSeqs.delete(claim.seq);
          // The key's next message starts at once, not at the next poll: a burst to one server goes one
          // delivery right after the other.
          if (key !== null && !stopped()) {
            const next = await this.#claim(key, 0).catch(() => undefined);
            if (next !== undefined) {
              running.delete(done);
              deliver(next, key);
              return;
            }
          }
          if (key !== null) busyKeys.delete(key);
          running.delete(done);
          this.#wake?.();
        });
      running.add(done);
    };
    while (!stopped()) {
      try {
        const [rows] = await this.#pool.query<Row[]>(
          "SELECT seq, ordering_key FROM delivery_queue WHERE scheduled <= ? ORDER BY seq LIMIT ?",
          [Date.now(), WINDOW],
        );
        // Oldest first; a key is tried once per pass, from its oldest due message, so its order holds.
        const tried = new Set(busyKeys);
        for (const row of rows) {
          if (running.size >= CONCURRENCY || stopped()) break;
          const key = row.ordering_key;
          if (runningSeqs.has(Number(row.seq)) || (key !== null && tried.has(key))) continue;
          if (key !== null) tried.add(key);
          const claim = await this.#claim(key, Number(row.seq));
          if (claim !== undefined) deliver(claim, key);
        }
      } catch {
        // The database went away for a moment: try again at the next poll.
      }
      await pause(POLL_MS, signal, (wake) => {
        this.#wake = wake;
      });
    }
    this.#wake = undefined;
    // Deliveries that run on (including the ones they chain to) finish or roll back with their connection.
    while (running.size > 0) await Promise.all([...running]);
  }
}
