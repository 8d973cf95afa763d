// Vitest global setup of the `mariadb` project: MariaDB must answer before any file starts a server on it;
// afterwards no database of this run is left behind.
import { randomBytes } from "node:crypto";

export default async function setup(): Promise<() => Promise<void>> {
  // Names this run's databases (inherited by the test workers), so that parallel runs never collide.
  process.env.SOTTO_TEST_RUN = randomBytes(4).toString("hex");
  const { dropDatabases, ensureMariadb } = await import("../testing/mariadb.js");
  await ensureMariadb();
  return () => dropDatabases(true);
}
