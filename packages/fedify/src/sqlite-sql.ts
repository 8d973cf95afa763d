import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { GroupCommit } from "./groupCommit.js";
import type { Sql, SqlRun, SqlStatement, SqlValue } from "./sql.js";

/**
 * {@link Sql} on a `node:sqlite` database the host opened (and closes). Each SQL text is prepared once. Every
 * statement runs synchronously, before the method returns (`all`, `get` and `run` throw a failure right there;
 * `batch` rejects): the promises are already settled, so SQLite's speed is kept, and a `batch` holds its
 * transaction for no longer than its own statements. With `group`, a `batch` is group-committed instead: it
 * runs with the other writes of the same event-loop turn, in one transaction (one disk sync for all).
 */
export function sqliteSql(db: DatabaseSync, group?: GroupCommit): Sql {
  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  const run = (sql: string, params: readonly SqlValue[] = []): SqlRun => {
    const result = prepare(sql).run(...params);
    return { changes: Number(result.changes), lastId: Number(result.lastInsertRowid) };
  };
  return {
    dialect: "sqlite",
    all: <T>(sql: string, params: readonly SqlValue[] = []) =>
      Promise.resolve(prepare(sql).all(...params) as T[]),
    get: <T>(sql: string, params: readonly SqlValue[] = []) =>
      Promise.resolve(prepare(sql).get(...params) as T | undefined),
    run: (sql, params) => Promise.resolve(run(sql, params)),
    batch(statements: readonly SqlStatement[]) {
      if (group !== undefined) return group.write(() => statements.map((s) => run(s.sql, s.params)));
      try {
        db.exec("BEGIN IMMEDIATE");
      } catch (error) {
        return Promise.reject(error);
      }
      try {
        const results = statements.map((s) => run(s.sql, s.params));
        db.exec("COMMIT");
        return Promise.resolve(results);
      } catch (error) {
        db.exec("ROLLBACK");
        return Promise.reject(error);
      }
    },
    // One file, and writers already take SQLite's own lock: statements of a migration run in one batch.
    exclusive: (_name, work) => work(),
    close: () => Promise.resolve(),
  };
}
