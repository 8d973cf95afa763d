import type { DatabaseSync } from "node:sqlite";
import type { FieldCipher } from "./cipher.js";
import { type Row, SEALED_COLUMNS } from "./sealed-columns.js";

/** The `meta` row saying every sealed value is bound to its row's clear columns (see `SEALED_COLUMNS`). */
const SEALED_FORMAT = "sealed_format";

/**
 * Re-seals the values a schema-1 store sealed bound to (table, column, row key) only, now bound to their rows'
 * clear columns too; once, in one transaction, the first time the store is opened with its key (a new store has
 * nothing to re-seal). A value that fails authentication stops it: `tampered`, and nothing is changed.
 */
export function resealBound(db: DatabaseSync, cipher: FieldCipher): void {
  const done = db.prepare("SELECT value FROM meta WHERE name = ?").get(SEALED_FORMAT) as
    | { value: number }
    | undefined;
  if (done !== undefined && done.value >= 2) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const { table, key, columns } of SEALED_COLUMNS) {
      const page = db.prepare(
        `SELECT rowid AS rowid_, * FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT 256`,
      );
      const update = db.prepare(
        `UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE rowid = ?`,
      );
      for (
        let rows = page.all(0) as Row[];
        rows.length > 0;
        rows = page.all(rows.at(-1)?.rowid_ as number) as Row[]
      ) {
        for (const row of rows) {
          const values = columns.map((column) => {
            const sealed = row[column] as Uint8Array | null;
            if (sealed === null) return null;
            return cipher.seal(
              table,
              column,
              row,
              cipher.openUnbound(table, column, String(row[key]), sealed),
            );
          });
          update.run(...values, row.rowid_ as number);
        }
      }
    }
    db.prepare(
      "INSERT INTO meta (name, value) VALUES (?, 2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    ).run(SEALED_FORMAT);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
