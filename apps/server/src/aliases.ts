import type { DatabaseSync } from "node:sqlite";

/**
 * Ids a client gave to what it posted, kept beside the ids the server assigned instead (ActivityPub §6: the
 * server's id wins). A client that keeps its own id as a cursor (Emissary) or names a KeyPackage by it still
 * finds the item. Aliases are per posting user: one user's ids never shadow another's.
 */
export class Aliases {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS aliases (
      owner TEXT NOT NULL, alias TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (owner, alias))`);
  }

  /** Records `alias` for `id`; an alias already taken keeps what it named first. */
  add(owner: string, alias: string, id: string): Promise<void> {
    this.#db
      .prepare("INSERT INTO aliases (owner, alias, id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
      .run(owner, alias, id);
    return Promise.resolve();
  }

  /** The server's id for `owner`'s alias, if there is one. */
  resolve(owner: string, alias: string): Promise<string | undefined> {
    const row = this.#db.prepare("SELECT id FROM aliases WHERE owner = ? AND alias = ?").get(owner, alias) as
      | { id: string }
      | undefined;
    return Promise.resolve(row?.id);
  }
}
