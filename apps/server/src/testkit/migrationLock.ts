// Holds the lock a server's schema migration takes on its MariaDB database, as another process starting on
// the same database does: a server starting there waits until it is released.
import { mysqlSql, openMysqlPool } from "@sotto/fedify";

/** Takes the `server` migration lock of `database` (a mysql:// URL); resolves to its release. */
export async function holdMigrationLock(database: string): Promise<() => Promise<void>> {
  const sql = mysqlSql(await openMysqlPool(database));
  let release = () => {};
  let held = () => {};
  const acquired = new Promise<void>((resolve) => {
    held = resolve;
  });
  const done = sql.exclusive("sotto_migrate_server", () => {
    held();
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  await Promise.race([acquired, done]);
  return async () => {
    release();
    await done;
    await sql.close();
  };
}
