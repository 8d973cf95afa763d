import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { KvStore, MessageQueue } from "@fedify/fedify";
import { MysqlKvStore } from "@fedify/mysql";
import { SqliteKvStore } from "@fedify/sqlite";
import { GroupCommit, migrate, mysqlSql, openMysqlPool, type Sql, sqliteSql } from "@sotto/fedify";
import { SqliteDeliveryQueue } from "./deliveryQueue.js";
import { ServerError } from "./errors.js";
import { MysqlDeliveryQueue } from "./mysqlDeliveryQueue.js";
import { SERVER_MIGRATIONS } from "./schema.js";
import { type ServerStore, SqlServerStore } from "./store.js";

/** Where the server keeps its data: a SQLite file in `dataDir` (the default) or a MariaDB/MySQL database. */
export interface DatabaseOptions {
  /** The directory of the SQLite file; not needed with `database`. */
  readonly dataDir?: string;
  /** `mysql://user:password@host:port/name`: every table, Fedify's KV store and the queue go there. */
  readonly database?: string;
  /** SQLite only: disk sync of each commit, `full` (default) or `normal`. */
  readonly synchronous?: "full" | "normal";
}

/** The server's tables with Fedify's KV store and delivery queue on the same database. */
export interface Backend {
  readonly store: ServerStore;
  readonly sql: Sql;
  readonly kv: KvStore;
  readonly queue: MessageQueue;
  /** Writes started in one event-loop turn (the store's, the queue's) commit together, in that order. */
  readonly sharedCommits: boolean;
  close(): Promise<void>;
}

export const SQLITE_FILE = "sotto-server.sqlite";

/**
 * Opens the server's SQLite file (its tables, @sotto/fedify's, Fedify's KV store and queue share it). `full`
 * syncs every commit to disk, so what was acknowledged survives a power loss; `normal` (WAL) survives a crash
 * or restart of the process but may lose the last commits on a power loss, and is much faster.
 */
export function openDatabase(dataDir: string, synchronous: "full" | "normal" = "full"): DatabaseSync {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, SQLITE_FILE));
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"};
    PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON`);
  return db;
}

/** Opens the configured database and brings its schema to this version's. */
export async function openBackend(options: DatabaseOptions): Promise<Backend> {
  if (options.database !== undefined) {
    const pool = await openMysqlPool(options.database);
    try {
      const sql = mysqlSql(pool);
      await migrate(sql, "server", SERVER_MIGRATIONS);
      // Expired entries are skipped on reads anyway; sweeping them on every write (the default) contended
      // with every other write's locks.
      const kv = new MysqlKvStore(pool, { expireCleanupRate: 0.01 });
      // Ours, not @fedify/mysql's MysqlMessageQueue, which deletes a message before delivering it.
      const queue = new MysqlDeliveryQueue(pool);
      await kv.initialize();
      await queue.initialize();
      return {
        store: new SqlServerStore(sql),
        sql,
        kv,
        queue,
        sharedCommits: false,
        close: () => pool.end(),
      };
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }
  if (options.dataDir === undefined) {
    throw new ServerError(
      "invalid_config",
      "set dataDir (a SQLite file is kept there) or database (mysql://...)",
    );
  }
  const db = openDatabase(options.dataDir, options.synchronous);
  try {
    // Posts and enqueues of concurrent requests share commits: one disk sync for all of one event-loop turn.
    const group = new GroupCommit(db);
    const sql = sqliteSql(db, group);
    await migrate(sql, "server", SERVER_MIGRATIONS);
    return {
      store: new SqlServerStore(sql),
      sql,
      kv: new SqliteKvStore(db),
      queue: new SqliteDeliveryQueue(db, group),
      sharedCommits: true,
      close: async () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
