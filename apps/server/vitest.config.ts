import { configDefaults, defineConfig } from "vitest/config";

// The whole suite runs twice: on SQLite files (the default back end) and on MariaDB (127.0.0.1:3306, a fresh
// database per server). What only one back end has is tested in that project only. Tests start servers and
// worker processes and wait (bounded) for retried deliveries: wide timeouts for a loaded two-core machine.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        // Tests of MariaDB-only parts need not run twice.
        test: {
          name: "sqlite",
          exclude: [
            ...configDefaults.exclude,
            "src/migrate.test.ts",
            "src/migrationLock.test.ts",
            "src/mysqlDeliveryQueue.test.ts",
          ],
        },
      },
      {
        extends: true,
        test: {
          name: "mariadb",
          env: { SOTTO_TEST_BACKEND: "mariadb" },
          globalSetup: ["./src/testkit/mariadb-setup.ts"],
          setupFiles: ["./src/testkit/mariadb-cleanup.ts"],
          // The SQLite delivery queue is not used on MariaDB (MysqlDeliveryQueue is).
          exclude: [...configDefaults.exclude, "src/deliveryQueue.test.ts"],
        },
      },
    ],
  },
});
