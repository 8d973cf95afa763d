import type { DatabaseSync } from "node:sqlite";

interface Pending {
  readonly write: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit on one `node:sqlite` database: writes handed in during one turn of the event loop run
 * together at the next `setImmediate`, each in a savepoint of one transaction, and are settled after its
 * COMMIT. Concurrent requests (posts, enqueues) then share one disk sync instead of one each. A write that
 * throws rolls back to its savepoint and rejects alone; a failed COMMIT rejects all of them. Everything runs
 * synchronously inside the flush, so nothing else on the connection can slip into the transaction.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  #pending: Pending[] = [];

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Runs `write` (synchronous statements) in the next group transaction; resolves once it is committed. */
  write<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#flush());
      this.#pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #flush(): void {
    const group = this.#pending;
    this.#pending = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      for (const p of group) p.reject(error);
      return;
    }
    try {
      for (const p of group) {
        this.#db.exec("SAVEPOINT grouped");
        try {
          results.push({ ok: true, value: p.write() });
          this.#db.exec("RELEASE grouped");
        } catch (error) {
          this.#db.exec("ROLLBACK TO grouped");
          this.#db.exec("RELEASE grouped");
          results.push({ ok: false, value: error });
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      for (const p of group) p.reject(error);
      return;
    }
    group.forEach((p, i) => {
      const result = results[i] as { ok: boolean; value: unknown };
      if (result.ok) p.resolve(result.value);
      else p.reject(result.value);
    });
  }
}
