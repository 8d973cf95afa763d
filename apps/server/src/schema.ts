import {
  activityLogIndex,
  activityLogTable,
  columnTypes,
  keyPackageTable,
  type Migration,
} from "@sotto/fedify";

/** The logs of sotto-server, each an `SqlActivityLog` table. */
export const LOG_TABLES = ["inbox", "mls_messages", "outbox", "objects"] as const;

/**
 * sotto-server's schema versions, in `schema_versions` as component `server`. Version 1 is the schema the
 * server had before versions were counted (its statements are IF NOT EXISTS, so a file made then is adopted
 * as it is). A new version appends an entry; an entry, once released, is never changed.
 */
export const SERVER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (dialect) => {
      const t = columnTypes(dialect);
      return [
        // A removed user's row stays (keys erased), so that the name, and the mail stored under it, is never
        // reused.
        `CREATE TABLE IF NOT EXISTS users (
          name ${t.name} NOT NULL PRIMARY KEY, created VARCHAR(32) NOT NULL, \`keys\` ${t.text} NOT NULL,
          removed INTEGER NOT NULL DEFAULT 0)${t.table}`,
        `CREATE TABLE IF NOT EXISTS tokens (
          hash CHAR(64) NOT NULL PRIMARY KEY,
          name ${t.name} NOT NULL REFERENCES users (name) ON DELETE CASCADE,
          created VARCHAR(32) NOT NULL)${t.table}`,
        ...LOG_TABLES.flatMap((table) => activityLogTable(dialect, table)),
        ...keyPackageTable(dialect),
        `CREATE TABLE IF NOT EXISTS aliases (
          owner ${t.name} NOT NULL, alias ${t.id} NOT NULL, id ${t.text} NOT NULL,
          PRIMARY KEY (owner, alias))${t.table}`,
      ];
    },
  },
  {
    // Each owner's page of a log is read by (owner, seq), not by sorting the owner's whole log (issue 20).
    version: 2,
    statements: () => LOG_TABLES.flatMap((table) => activityLogIndex(table)),
  },
];
