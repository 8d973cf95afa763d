import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { JsonObject } from "@sotto/core";
import type { ActivityLog, KeyPackageRecord, KeyPackageStore, LoggedActivity } from "./storage.js";

// Table names are interpolated into SQL, so only plain identifiers are accepted.
function checkTableName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`invalid table name: ${name}`);
  return name;
}

/** Prepares each SQL text once per connection. */
function statements(db: DatabaseSync): (sql: string) => StatementSync {
  const cache = new Map<string, StatementSync>();
  return (sql) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}

interface LogRow {
  seq: number;
  id: string;
  json: string;
  received: string;
}

function toLogged(row: LogRow): LoggedActivity {
  return { seq: row.seq, id: row.id, activity: JSON.parse(row.json) as JsonObject, received: row.received };
}

/** An {@link ActivityLog} in one table of a `node:sqlite` database the host owns. */
export class SqliteActivityLog implements ActivityLog {
  readonly #sql: (sql: string) => StatementSync;
  readonly #table: string;

  constructor(db: DatabaseSync, table: string) {
    this.#sql = statements(db);
    this.#table = checkTableName(table);
    db.exec(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      owner TEXT NOT NULL,
      id TEXT NOT NULL,
      json TEXT NOT NULL,
      received TEXT NOT NULL,
      UNIQUE (owner, id))`);
  }

  append(owner: string, id: string, activity: JsonObject): Promise<LoggedActivity | undefined> {
    return Promise.resolve(this.appendNow(owner, id, activity));
  }

  /** {@link append}, done before it returns: what {@link appendTogether} runs inside its transaction. */
  appendNow(owner: string, id: string, activity: JsonObject): LoggedActivity | undefined {
    const received = new Date().toISOString();
    const row = this.#sql(
      `INSERT INTO ${this.#table} (owner, id, json, received) VALUES (?, ?, ?, ?)
         ON CONFLICT (owner, id) DO NOTHING RETURNING seq, id, json, received`,
    ).get(owner, id, JSON.stringify(activity), received) as LogRow | undefined;
    return row === undefined ? undefined : toLogged(row);
  }

  find(owner: string, id: string): Promise<LoggedActivity | undefined> {
    const row = this.#sql(
      `SELECT seq, id, json, received FROM ${this.#table} WHERE owner = ? AND id = ?`,
    ).get(owner, id) as LogRow | undefined;
    return Promise.resolve(row === undefined ? undefined : toLogged(row));
  }

  remove(owner: string, id: string): Promise<boolean> {
    const { changes } = this.#sql(`DELETE FROM ${this.#table} WHERE owner = ? AND id = ?`).run(owner, id);
    return Promise.resolve(Number(changes) > 0);
  }

  count(owner: string): Promise<number> {
    const row = this.#sql(`SELECT count(*) AS n FROM ${this.#table} WHERE owner = ?`).get(owner) as {
      n: number;
    };
    return Promise.resolve(row.n);
  }

  newest(owner: string, options: { before?: number; limit: number }): Promise<LoggedActivity[]> {
    const rows = this.#sql(
      `SELECT seq, id, json, received FROM ${this.#table} WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ).all(owner, options.before ?? Number.MAX_SAFE_INTEGER, options.limit) as unknown as LogRow[];
    return Promise.resolve(rows.map(toLogged));
  }

  positionAt(owner: string, received: string): Promise<number> {
    const row = this.#sql(
      `SELECT coalesce(max(seq), 0) AS seq FROM ${this.#table} WHERE owner = ? AND received < ?`,
    ).get(owner, received) as { seq: number };
    return Promise.resolve(row.seq);
  }

  after(owner: string, after: number, limit: number): Promise<LoggedActivity[]> {
    const rows = this.#sql(
      `SELECT seq, id, json, received FROM ${this.#table} WHERE owner = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
    ).all(owner, after, limit) as unknown as LogRow[];
    return Promise.resolve(rows.map(toLogged));
  }
}

/** One append of {@link appendTogether}. */
export interface LogAppend {
  readonly log: SqliteActivityLog;
  readonly owner: string;
  readonly id: string;
  readonly activity: JsonObject;
}

/**
 * Appends to several logs of one database as one transaction: all or none, and one commit (one disk sync)
 * instead of one each. Answers each append's item, `undefined` where the log already held that id.
 */
export function appendTogether(
  db: DatabaseSync,
  entries: readonly LogAppend[],
): (LoggedActivity | undefined)[] {
  db.exec("BEGIN IMMEDIATE");
  try {
    const items = entries.map((e) => e.log.appendNow(e.owner, e.id, e.activity));
    db.exec("COMMIT");
    return items;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

interface KeyPackageRow {
  id: string;
  owner: string;
  json: string;
  listed: number;
  deleted: number;
}

function toRecord(row: KeyPackageRow): KeyPackageRecord {
  return {
    id: row.id,
    owner: row.owner,
    object: JSON.parse(row.json) as JsonObject,
    listed: row.listed === 1,
    deleted: row.deleted === 1,
  };
}

/** A {@link KeyPackageStore} in one table of a `node:sqlite` database the host owns. */
export class SqliteKeyPackageStore implements KeyPackageStore {
  readonly #sql: (sql: string) => StatementSync;
  readonly #table: string;

  constructor(db: DatabaseSync, table = "mls_key_packages") {
    this.#sql = statements(db);
    this.#table = checkTableName(table);
    db.exec(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      json TEXT NOT NULL,
      listed INTEGER NOT NULL,
      deleted INTEGER NOT NULL,
      position INTEGER NOT NULL)`);
  }

  get(id: string): Promise<KeyPackageRecord | undefined> {
    const row = this.#sql(`SELECT id, owner, json, listed, deleted FROM ${this.#table} WHERE id = ?`).get(
      id,
    ) as KeyPackageRow | undefined;
    return Promise.resolve(row === undefined ? undefined : toRecord(row));
  }

  put(record: KeyPackageRecord): Promise<void> {
    // `position` keeps the collection in publication order across in-place Updates.
    this.#sql(
      `INSERT INTO ${this.#table} (id, owner, json, listed, deleted, position)
         VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM ${this.#table}))
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, json = excluded.json,
           listed = excluded.listed, deleted = excluded.deleted`,
    ).run(
      record.id,
      record.owner,
      JSON.stringify(record.object),
      record.listed ? 1 : 0,
      record.deleted ? 1 : 0,
    );
    return Promise.resolve();
  }

  listed(owner: string): Promise<KeyPackageRecord[]> {
    const rows = this.#sql(
      `SELECT id, owner, json, listed, deleted FROM ${this.#table}
         WHERE owner = ? AND listed = 1 AND deleted = 0 ORDER BY position`,
    ).all(owner) as unknown as KeyPackageRow[];
    return Promise.resolve(rows.map(toRecord));
  }
}
