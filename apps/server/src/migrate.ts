import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { MessageQueue } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { migrate, redactUrl, type Sql, type SqlValue, sqliteSql } from "@sotto/fedify";
import { openBackend, openDatabase, SQLITE_FILE } from "./backend.js";
import { ServerError } from "./errors.js";
import { LOG_TABLES, SERVER_MIGRATIONS } from "./schema.js";
import type { ServerOptions } from "./server.js";

/** The server's tables and their columns, parents before children (tokens name users). */
const TABLES: readonly (readonly [string, readonly string[]])[] = [
  ["users", ["name", "created", "`keys`", "removed"]],
  ["tokens", ["hash", "name", "created"]],
  // Positions (`seq`) are kept: clients hold them as cursors (`?before=`, Last-Event-ID).
  ...LOG_TABLES.map((t) => [t, ["seq", "owner", "id", "json", "received"]] as const),
  ["mls_key_packages", ["id", "owner", "json", "listed", "deleted", "position"]],
  ["aliases", ["owner", "alias", "id"]],
];
const PAGE = 200;

/**
 * Copies the SQLite database of `options.dataDir` into the empty MariaDB/MySQL database at `url`: accounts,
 * tokens, every log with its positions, KeyPackages, aliases, and the deliveries still queued (into the
 * queue that MariaDB mode uses, in order). Fedify's KV store holds caches only and is not copied. The SQLite file
 * is read, never changed; the server must be stopped while this runs. Answers one line per table.
 */
export async function migrateToMysql(options: ServerOptions, url: string | undefined): Promise<string[]> {
  if (url === undefined || !url.startsWith("mysql://")) {
    throw new ServerError(
      "invalid_config",
      "migrate needs the target: sotto-server migrate mysql://user@host/name",
    );
  }
  if (options.dataDir === undefined || !existsSync(join(options.dataDir, SQLITE_FILE))) {
    throw new ServerError(
      "invalid_config",
      `migrate copies ${SQLITE_FILE} from dataDir, and there is none${options.dataDir === undefined ? " (dataDir is not set)" : ` in ${options.dataDir}`}`,
    );
  }
  const db = openDatabase(options.dataDir, "full");
  const backend = await openBackend({ database: url }).catch((error: unknown) => {
    db.close();
    throw error;
  });
  try {
    const source = sqliteSql(db);
    const target = backend.sql;
    await migrate(source, "server", SERVER_MIGRATIONS);
    for (const [table] of TABLES) {
      const row = await target.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
      if (Number(row?.n) > 0) {
        throw new ServerError(
          "invalid_config",
          `${redactUrl(url)} already holds ${table}: migrate into an empty database (CREATE DATABASE ...)`,
        );
      }
    }
    const lines: string[] = [];
    for (const [table, columns] of TABLES) {
      lines.push(`${table} ${await copyTable(source, target, table, columns)}`);
    }
    lines.push(`queued deliveries ${await copyQueue(db, backend.queue)}`);
    lines.push(`done: run sotto-server with database ${redactUrl(url)}`);
    return lines;
  } finally {
    await backend.close();
    db.close();
  }
}

async function copyTable(
  source: Sql,
  target: Sql,
  table: string,
  columns: readonly string[],
): Promise<number> {
  const list = columns.join(", ");
  const insert = `INSERT INTO ${table} (${list}) VALUES (${columns.map(() => "?").join(", ")})`;
  let copied = 0;
  for (let after = 0; ; ) {
    const rows = await source.all<Record<string, SqlValue> & { rowid: number }>(
      `SELECT rowid, ${list} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      [after, PAGE],
    );
    if (rows.length === 0) return copied;
    await target.batch(
      rows.map((row) => ({ sql: insert, params: columns.map((c) => row[c.replaceAll("`", "")] ?? null) })),
    );
    copied += rows.length;
    after = Number(rows.at(-1)?.rowid);
  }
}

/** Copies what the SQLite queue still holds into MariaDB mode's queue, keeping order and due times. */
async function copyQueue(db: DatabaseSync, queue: MessageQueue): Promise<number> {
  const hasQueue = db.prepare(
    "SELECT 1 AS hit FROM sqlite_master WHERE type = 'table' AND name = 'delivery_queue'",
  );
  if (hasQueue.get() === undefined) return 0;
  const rows = db
    .prepare("SELECT message, scheduled, ordering_key FROM delivery_queue ORDER BY seq")
    .all() as { message: string; scheduled: number; ordering_key: string | null }[];
  for (const row of rows) {
    const delay = Math.max(0, row.scheduled - Date.now());
    await queue.enqueue(JSON.parse(row.message), {
      ...(row.ordering_key === null ? {} : { orderingKey: row.ordering_key }),
      ...(delay > 0 ? { delay: Temporal.Duration.from({ milliseconds: delay }) } : {}),
    });
  }
  return rows.length;
}
