// MariaDB for the server tests (the `mariadb` Vitest project) and the migration test: 127.0.0.1:3306, root,
// empty password. Each server gets a database of its own, named after the run, dropped after its file.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { createConnection } from "mysql2/promise";

export const MARIADB = "mysql://root@127.0.0.1:3306";

/** Which back end the server tests run against: `mariadb` in that Vitest project, else SQLite. */
export const TEST_BACKEND: "sqlite" | "mariadb" =
  process.env.SOTTO_TEST_BACKEND === "mariadb" ? "mariadb" : "sqlite";

const HINT =
  "The server tests need MariaDB on 127.0.0.1:3306 (user root, empty password): `sudo apt-get install -y " +
  'mariadb-server`, start it, and run `sudo mariadb -e "CREATE USER IF NOT EXISTS root@127.0.0.1; GRANT ALL ON ' +
  '*.* TO root@127.0.0.1 WITH GRANT OPTION"` (or run the tests as root, which does all of this).';

async function reachable(): Promise<Error | undefined> {
  try {
    const connection = await createConnection(MARIADB);
    await connection.end();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

function run(command: string, args: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const result = spawnSync(command, args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr?.slice(-500)}. ${HINT}`);
  }
}

/**
 * Makes sure MariaDB answers: when it does not and this runs as root, installs Debian's mariadb-server, starts
 * it and lets root in over TCP without a password; otherwise says how.
 */
export async function ensureMariadb(): Promise<void> {
  const first = await reachable();
  if (first === undefined) return;
  if (process.getuid?.() !== 0) throw new Error(`MariaDB is not reachable (${first.message}). ${HINT}`);
  if (!existsSync("/usr/sbin/mariadbd")) {
    run("apt-get", ["update"]);
    run("apt-get", ["install", "-y", "mariadb-server"]);
  }
  spawnSync("service", ["mariadb", "start"], { stdio: "ignore" });
  for (let attempt = 0; attempt < 60; attempt++) {
    const error = await reachable();
    if (error === undefined) return;
    // Debian lets root in through the Unix socket only: allow it over TCP from loopback too (loopback may
    // resolve to `localhost`, so that account also gets the empty password beside its socket).
    if (/Access denied/.test(error.message)) {
      run("mariadb", [
        "-e",
        "CREATE USER IF NOT EXISTS root@127.0.0.1; GRANT ALL ON *.* TO root@127.0.0.1 WITH GRANT OPTION; " +
          "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')",
      ]);
    }
    await sleep(500);
  }
  throw new Error(`MariaDB was installed and started but does not answer on 127.0.0.1:3306. ${HINT}`);
}

const RUN = process.env.SOTTO_TEST_RUN ?? `p${process.pid}`;
const created: string[] = [];

/** A new, empty database for one server; its mysql:// URL. */
export async function freshDatabase(): Promise<string> {
  const name = `sotto_t_${RUN}_${process.pid}_${created.length}`;
  const connection = await createConnection(MARIADB);
  try {
    await connection.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await connection.end();
  }
  created.push(name);
  return `${MARIADB}/${name}`;
}

/** The `database` option a test server gets: a fresh MariaDB database in the `mariadb` project, else none. */
export async function testDatabase(): Promise<{ database?: string }> {
  return TEST_BACKEND === "mariadb" ? { database: await freshDatabase() } : {};
}

/** Drops the databases made here (`all`: every one of this run, for the global teardown). */
export async function dropDatabases(all = false): Promise<void> {
  const connection = await createConnection(MARIADB);
  try {
    const names = all
      ? (
          (await connection.query(`SHOW DATABASES LIKE 'sotto\\_t\\_${RUN}\\_%'`))[0] as Record<
            string,
            string
          >[]
        ).map((row) => Object.values(row)[0] as string)
      : created.splice(0);
    for (const name of names) await connection.query(`DROP DATABASE IF EXISTS ${name}`);
  } finally {
    await connection.end();
  }
}
