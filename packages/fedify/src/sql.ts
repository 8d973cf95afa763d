// A small asynchronous SQL interface that a SQLite file (node:sqlite) and a MariaDB/MySQL server (mysql2)
// both answer, so that the logs, the KeyPackage store and a host's own tables are written once.

/** SQL dialects spoken here; the few statements that differ ask which one they talk to. */
export type SqlDialect = "sqlite" | "mysql";

export type SqlValue = string | number | bigint | null;

export interface SqlStatement {
  readonly sql: string;
  readonly params?: readonly SqlValue[];
}

/** What a write did: rows changed and the last auto-increment id it made (meaningful when `changes` > 0). */
export interface SqlRun {
  readonly changes: number;
  readonly lastId: number;
}

/**
 * A database connection (SQLite) or pool (MySQL). Statements take `?` placeholders. `batch` is the only way to
 * write several statements as one commit: on SQLite it runs without yielding, so nothing else on the same
 * connection can slip into the transaction.
 */
export interface Sql {
  readonly dialect: SqlDialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRun>;
  /** Runs the statements in order as one transaction: all of them or none. */
  batch(statements: readonly SqlStatement[]): Promise<SqlRun[]>;
  /**
   * Runs `work` while holding a named lock shared by every process on this database (schema migrations); on
   * MySQL the lock is this database's only, and a `DatabaseError` (`lock_timeout`) after a minute's wait.
   */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Table names are interpolated into SQL, so only plain identifiers are accepted. */
export function checkTableName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`invalid table name: ${name}`);
  return name;
}

/** The tail of an INSERT that leaves an existing row with the same key alone (its `changes` is then 0). */
export function ignoreDuplicate(dialect: SqlDialect, anyColumn: string): string {
  return dialect === "sqlite"
    ? " ON CONFLICT DO NOTHING"
    : ` ON DUPLICATE KEY UPDATE ${anyColumn} = ${anyColumn}`;
}

/** The tail of an INSERT that overwrites `columns` of an existing row with the same `key`. */
export function updateDuplicate(
  dialect: SqlDialect,
  key: readonly string[],
  columns: readonly string[],
): string {
  return dialect === "sqlite"
    ? ` ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(", ")}`
    : ` ON DUPLICATE KEY UPDATE ${columns.map((c) => `${c} = VALUES(${c})`).join(", ")}`;
}

/**
 * Column types that differ: MySQL needs bounded, byte-exact (binary collation) text for keys, since peers' ids
 * are compared byte for byte; SQLite's TEXT already is.
 */
export function columnTypes(dialect: SqlDialect): {
  /** An auto-increment integer primary key. */
  readonly serial: string;
  /** A user name or other short key (255 characters). */
  readonly name: string;
  /** An id (IRI) in a key; 512 characters, so that a (name, id) key fits InnoDB's 3072-byte limit. */
  readonly id: string;
  /** Any length of text (JSON documents). */
  readonly text: string;
  /** The table options after the closing parenthesis. */
  readonly table: string;
} {
  return dialect === "sqlite"
    ? { serial: "INTEGER PRIMARY KEY AUTOINCREMENT", name: "TEXT", id: "TEXT", text: "TEXT", table: "" }
    : {
        serial: "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
        name: "VARCHAR(255)",
        id: "VARCHAR(512)",
        text: "LONGTEXT",
        table: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
      };
}
