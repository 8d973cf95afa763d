import { DatabaseError } from "./errors.js";
import type { Sql, SqlDialect } from "./sql.js";

/** One schema version: the statements that bring the previous version to it, per dialect. */
export interface Migration {
  readonly version: number;
  readonly statements: (dialect: SqlDialect) => readonly string[];
}

const VERSIONS = `CREATE TABLE IF NOT EXISTS schema_versions (
  component VARCHAR(64) NOT NULL PRIMARY KEY, version INTEGER NOT NULL)`;

/** The schema version `component` is at (0: none of its tables were made by a migration yet). */
export async function schemaVersion(sql: Sql, component: string): Promise<number> {
  await sql.run(VERSIONS);
  const row = await sql.get<{ version: number }>("SELECT version FROM schema_versions WHERE component = ?", [
    component,
  ]);
  return Number(row?.version ?? 0);
}

/**
 * Brings `component`'s tables to the newest of `migrations` (ascending versions, from 1), each version once,
 * and answers the version reached. Several components (a server, a gateway) can share one database: each
 * counts its own versions in `schema_versions`. A database newer than this code is refused, not touched.
 * On SQLite each version is one transaction; MySQL commits DDL statement by statement, so every statement is
 * written to be run again (IF NOT EXISTS) after a crash half-way, and a lock keeps processes starting
 * together from migrating at once.
 */
export function migrate(sql: Sql, component: string, migrations: readonly Migration[]): Promise<number> {
  const latest = migrations.at(-1)?.version ?? 0;
  return sql.exclusive(`sotto_migrate_${component}`, async () => {
    const current = await schemaVersion(sql, component);
    if (current > latest) {
      throw new DatabaseError(
        "schema_too_new",
        `the database holds ${component} schema version ${current}, newer than this program knows (${latest}): run the newer version, or restore a backup`,
      );
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      const record = {
        sql:
          migration.version === 1
            ? "INSERT INTO schema_versions (component, version) VALUES (?, ?)"
            : "UPDATE schema_versions SET version = ? WHERE component = ?",
        params: migration.version === 1 ? [component, 1] : [migration.version, component],
      };
      await sql.batch([...migration.statements(sql.dialect).map((s) => ({ sql: s })), record]);
    }
    return Math.max(current, latest);
  });
}
