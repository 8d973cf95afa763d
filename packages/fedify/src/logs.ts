import type { JsonObject } from "@sotto/core";
import {
  checkTableName,
  columnTypes,
  ignoreDuplicate,
  type Sql,
  type SqlDialect,
  type SqlRun,
  type SqlStatement,
  updateDuplicate,
} from "./sql.js";
import type { ActivityLog, KeyPackageRecord, KeyPackageStore, LoggedActivity } from "./storage.js";

/** The statements that create an {@link SqlActivityLog}'s table (for the host's schema migrations). */
export function activityLogTable(dialect: SqlDialect, table: string): string[] {
  const t = columnTypes(dialect);
  return [
    `CREATE TABLE IF NOT EXISTS ${checkTableName(table)} (
      seq ${t.serial},
      owner ${t.name} NOT NULL,
      id ${t.id} NOT NULL,
      json ${t.text} NOT NULL,
      received VARCHAR(32) NOT NULL,
      UNIQUE (owner, id))${t.table}`,
  ];
}

/**
 * The index an {@link SqlActivityLog} reads an owner's pages by (`after`, `newest`): without it SQLite finds the
 * owner's rows through the `(owner, id)` key and sorts all of them for every page, so a page cost grew with the
 * owner's whole log (5 ms for 100 of 10,000). A host runs it after {@link activityLogTable}, in a later version
 * of its schema when its tables are older than this index.
 */
export function activityLogIndex(table: string): string[] {
  const name = checkTableName(table);
  return [`CREATE INDEX IF NOT EXISTS ${name}_owner_seq ON ${name} (owner, seq)`];
}

/** The statements that create an {@link SqlKeyPackageStore}'s table. */
export function keyPackageTable(dialect: SqlDialect, table = "mls_key_packages"): string[] {
  const t = columnTypes(dialect);
  return [
    `CREATE TABLE IF NOT EXISTS ${checkTableName(table)} (
      id ${t.id} NOT NULL PRIMARY KEY,
      owner ${t.id} NOT NULL,
      json ${t.text} NOT NULL,
      listed INTEGER NOT NULL,
      deleted INTEGER NOT NULL,
      position INTEGER NOT NULL)${t.table}`,
  ];
}

interface LogRow {
  seq: number;
  id: string;
  json: string;
  received: string;
}

/** An item read from the table: `activity` is parsed from `json` only when asked for (a page splices `json`). */
class StoredActivity implements LoggedActivity {
  readonly seq: number;
  readonly id: string;
  readonly json: string;
  readonly received: string;
  #activity: JsonObject | undefined;

  constructor(row: LogRow) {
    this.seq = Number(row.seq);
    this.id = row.id;
    this.json = row.json;
    this.received = row.received;
  }

  get activity(): JsonObject {
    this.#activity ??= JSON.parse(this.json) as JsonObject;
    return this.#activity;
  }
}

const toLogged = (row: LogRow): LoggedActivity => new StoredActivity(row);

/** One owner's item, as a tail of the whole log reads it. */
export interface OwnedActivity extends LoggedActivity {
  readonly owner: string;
}

/** A prepared append: the statement, and how to read its outcome. */
export interface PendingAppend {
  readonly statement: SqlStatement;
  /** The appended item, or `undefined` when the log already held that id. */
  readonly item: (result: SqlRun) => LoggedActivity | undefined;
}

/** An {@link ActivityLog} in one table of the host's database (see {@link activityLogTable}). */
export class SqlActivityLog implements ActivityLog {
  readonly #sql: Sql;
  readonly #table: string;

  constructor(sql: Sql, table: string) {
    this.#sql = sql;
    this.#table = checkTableName(table);
  }

  /** An append to run in a {@link Sql.batch} with other writes (one commit for all). */
  prepareAppend(owner: string, id: string, activity: JsonObject): PendingAppend {
    const received = new Date().toISOString();
    const json = JSON.stringify(activity);
    return {
      statement: {
        sql: `INSERT INTO ${this.#table} (owner, id, json, received) VALUES (?, ?, ?, ?)${ignoreDuplicate(this.#sql.dialect, "id")}`,
        params: [owner, id, json, received],
      },
      item: (result) =>
        result.changes > 0 ? { seq: result.lastId, id, activity, json, received } : undefined,
    };
  }

  async append(owner: string, id: string, activity: JsonObject): Promise<LoggedActivity | undefined> {
    const pending = this.prepareAppend(owner, id, activity);
    return pending.item(await this.#sql.run(pending.statement.sql, pending.statement.params));
  }

  /** The statement {@link remove} runs, for a batch. */
  prepareRemove(owner: string, id: string): SqlStatement {
    return { sql: `DELETE FROM ${this.#table} WHERE owner = ? AND id = ?`, params: [owner, id] };
  }

  async find(owner: string, id: string): Promise<LoggedActivity | undefined> {
    const row = await this.#sql.get<LogRow>(
      `SELECT seq, id, json, received FROM ${this.#table} WHERE owner = ? AND id = ?`,
      [owner, id],
    );
    return row === undefined ? undefined : toLogged(row);
  }

  async remove(owner: string, id: string): Promise<boolean> {
    const removal = this.prepareRemove(owner, id);
    return (await this.#sql.run(removal.sql, removal.params)).changes > 0;
  }

  async count(owner: string): Promise<number> {
    const row = await this.#sql.get<{ n: number }>(
      `SELECT count(*) AS n FROM ${this.#table} WHERE owner = ?`,
      [owner],
    );
    return Number(row?.n ?? 0);
  }

  async newest(owner: string, options: { before?: number; limit: number }): Promise<LoggedActivity[]> {
    const rows = await this.#sql.all<LogRow>(
      `SELECT seq, id, json, received FROM ${this.#table} WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      [owner, options.before ?? Number.MAX_SAFE_INTEGER, options.limit],
    );
    return rows.map(toLogged);
  }

  async positionAt(owner: string, received: string): Promise<number> {
    const row = await this.#sql.get<{ seq: number }>(
      `SELECT coalesce(max(seq), 0) AS seq FROM ${this.#table} WHERE owner = ? AND received < ?`,
      [owner, received],
    );
    return Number(row?.seq ?? 0);
  }

  async after(owner: string, after: number, limit: number): Promise<LoggedActivity[]> {
    const rows = await this.#sql.all<LogRow>(
      `SELECT seq, id, json, received FROM ${this.#table} WHERE owner = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
      [owner, after, limit],
    );
    return rows.map(toLogged);
  }

  /**
   * Every owner's items with `seq > after`, oldest first: the tail another process follows to learn what was
   * appended through a process other than its own (live streams across web processes).
   */
  async since(after: number, limit: number): Promise<OwnedActivity[]> {
    const rows = await this.#sql.all<LogRow & { owner: string }>(
      `SELECT seq, owner, id, json, received FROM ${this.#table} WHERE seq > ? ORDER BY seq ASC LIMIT ?`,
      [after, limit],
    );
    // Not a spread: `activity` is a getter of the item's class.
    return rows.map((row) => Object.assign(toLogged(row), { owner: row.owner }));
  }

  /** The newest position in the whole log (0 when empty): where a tail starts following. */
  async lastSeq(): Promise<number> {
    const row = await this.#sql.get<{ seq: number }>(
      `SELECT coalesce(max(seq), 0) AS seq FROM ${this.#table}`,
    );
    return Number(row?.seq ?? 0);
  }
}

/** One append of {@link appendTogether}. */
export interface LogAppend {
  readonly log: SqlActivityLog;
  readonly owner: string;
  readonly id: string;
  readonly activity: JsonObject;
}

/**
 * Appends to several logs of one database as one transaction: all or none, and one commit (one disk sync)
 * instead of one each. Answers each append's item, `undefined` where the log already held that id.
 */
export async function appendTogether(
  sql: Sql,
  entries: readonly LogAppend[],
): Promise<(LoggedActivity | undefined)[]> {
  const pending = entries.map((e) => e.log.prepareAppend(e.owner, e.id, e.activity));
  const results = await sql.batch(pending.map((p) => p.statement));
  return pending.map((p, i) => p.item(results[i] as SqlRun));
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
    listed: Number(row.listed) === 1,
    deleted: Number(row.deleted) === 1,
  };
}

/** A {@link KeyPackageStore} in one table of the host's database (see {@link keyPackageTable}). */
export class SqlKeyPackageStore implements KeyPackageStore {
  readonly #sql: Sql;
  readonly #table: string;

  constructor(sql: Sql, table = "mls_key_packages") {
    this.#sql = sql;
    this.#table = checkTableName(table);
  }

  async get(id: string): Promise<KeyPackageRecord | undefined> {
    const row = await this.#sql.get<KeyPackageRow>(
      `SELECT id, owner, json, listed, deleted FROM ${this.#table} WHERE id = ?`,
      [id],
    );
    return row === undefined ? undefined : toRecord(row);
  }

  async put(record: KeyPackageRecord): Promise<void> {
    // `position` keeps the collection in publication order across in-place Updates. (SQLite needs the WHERE to
    // tell an INSERT ... SELECT from its upsert clause.)
    await this.#sql.run(
      `INSERT INTO ${this.#table} (id, owner, json, listed, deleted, position)
         SELECT ?, ?, ?, ?, ?, coalesce(max(position), 0) + 1 FROM ${this.#table} WHERE 1 = 1
         ${updateDuplicate(this.#sql.dialect, ["id"], ["owner", "json", "listed", "deleted"])}`,
      [record.id, record.owner, JSON.stringify(record.object), record.listed ? 1 : 0, record.deleted ? 1 : 0],
    );
  }

  async listed(owner: string): Promise<KeyPackageRecord[]> {
    const rows = await this.#sql.all<KeyPackageRow>(
      `SELECT id, owner, json, listed, deleted FROM ${this.#table}
         WHERE owner = ? AND listed = 1 AND deleted = 0 ORDER BY position`,
      [owner],
    );
    return rows.map(toRecord);
  }
}
