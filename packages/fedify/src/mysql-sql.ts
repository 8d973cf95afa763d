import {
  createPool,
  type Pool,
  type PoolConnection,
  type ResultSetHeader,
  type RowDataPacket,
} from "mysql2/promise";
import { DatabaseError } from "./errors.js";
import type { Sql, SqlRun, SqlStatement, SqlValue } from "./sql.js";

/** MySQL's "deadlock found": InnoDB rolled the transaction back, and running it again is the documented cure. */
const ER_LOCK_DEADLOCK = 1213;
const BATCH_ATTEMPTS = 3;
/** How long `exclusive` waits for a lock another process holds. */
const LOCK_WAIT_SECONDS = 60;
/** A named lock of this database only: the hash of database and name (40 characters, below MySQL's 64). */
const SCOPED_LOCK = "SHA1(CONCAT(DATABASE(), '/', ?))";

/** The URL with its password replaced, for messages (secrets never reach logs). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href;
  } catch {
    return "(not a URL)";
  }
}

function toRun(header: ResultSetHeader): SqlRun {
  return { changes: header.affectedRows, lastId: Number(header.insertId) };
}

/**
 * {@link Sql} on a MariaDB/MySQL connection pool. `affectedRows` counts changed rows, not matched ones (the
 * FOUND_ROWS flag is off), so an INSERT whose duplicate was left alone reports 0 changes, as on SQLite.
 */
export function mysqlSql(pool: Pool): Sql {
  const params = (values: readonly SqlValue[] | undefined) => (values === undefined ? [] : [...values]);
  return {
    dialect: "mysql",
    async all<T>(sql: string, values?: readonly SqlValue[]) {
      const [rows] = await pool.query(sql, params(values));
      return rows as T[];
    },
    async get<T>(sql: string, values?: readonly SqlValue[]) {
      const [rows] = await pool.query(sql, params(values));
      return (rows as T[])[0];
    },
    async run(sql, values) {
      const [header] = await pool.query<ResultSetHeader>(sql, params(values));
      return toRun(header);
    },
    async batch(statements: readonly SqlStatement[]) {
      const connection = await pool.getConnection();
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return await transaction(connection, statements);
          } catch (error) {
            if ((error as { errno?: number }).errno !== ER_LOCK_DEADLOCK || attempt >= BATCH_ATTEMPTS)
              throw error;
          }
        }
      } finally {
        connection.release();
      }
    },
    async exclusive(name, work) {
      const connection = await pool.getConnection();
      try {
        // GET_LOCK names are global to the MariaDB server, not to a database: scoped to this database, so that
        // servers on other databases (every test file has its own) never wait for each other's migrations.
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT GET_LOCK(${SCOPED_LOCK}, ?) AS granted`,
          [name, LOCK_WAIT_SECONDS],
        );
        if (Number(rows[0]?.granted) !== 1) {
          throw new DatabaseError(
            "lock_timeout",
            `another process held the lock ${name} on this database for ${LOCK_WAIT_SECONDS} s`,
          );
        }
        try {
          return await work();
        } finally {
          await connection.query(`SELECT RELEASE_LOCK(${SCOPED_LOCK})`, [name]);
        }
      } finally {
        connection.release();
      }
    },
    close: () => pool.end(),
  };
}

async function transaction(
  connection: PoolConnection,
  statements: readonly SqlStatement[],
): Promise<SqlRun[]> {
  await connection.beginTransaction();
  try {
    const results: SqlRun[] = [];
    for (const s of statements) {
      const [header] = await connection.query<ResultSetHeader>(
        s.sql,
        s.params === undefined ? [] : [...s.params],
      );
      results.push(toRun(header));
    }
    await connection.commit();
    return results;
  } catch (error) {
    await connection.rollback().catch(() => undefined);
    throw error;
  }
}

/**
 * Opens a pool on a `mysql://user:password@host:port/database` URL and checks that the server answers, so a
 * wrong address fails at start with a sentence instead of at the first request.
 */
export async function openMysqlPool(url: string): Promise<Pool> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError(
      "invalid_database_url",
      "the database setting is not a URL: use mysql://user@host:port/name",
    );
  }
  if (parsed.protocol !== "mysql:" || parsed.pathname.length <= 1) {
    throw new DatabaseError(
      "invalid_database_url",
      `${redactUrl(url)} is not a mysql:// URL naming a database: use mysql://user@host:port/name`,
    );
  }
  const pool = createPool({
    uri: url,
    charset: "utf8mb4_bin",
    flags: ["-FOUND_ROWS"],
    // The server's own queries beside the delivery queue's (one held connection per running delivery).
    connectionLimit: 20,
    // Rows come back as plain objects; BIGINT columns as numbers (positions stay far below 2^53).
    supportBigNumbers: true,
  });
  // READ COMMITTED: a locking read of a missing row takes no gap lock, so concurrent writers (the KV store's
  // compare-and-set, the queue's enqueues) do not deadlock each other as they did under REPEATABLE READ.
  pool.pool.on("connection", (connection) => {
    connection.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  });
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseError(
      "database_unreachable",
      `cannot use the database at ${redactUrl(url)} (${(error as Error).message}): start MariaDB/MySQL there, create the database, or fix the database setting`,
    );
  }
  return pool;
}
