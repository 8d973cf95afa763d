// MariaDB only (excluded from the SQLite project): MariaDB's named locks are global to the server, and the
// migration lock was, so every server starting anywhere on it (each test file has its own databases) waited
// for the others' migrations (issue 19).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { schemaVersion } from "@sotto/fedify";
import { describe, expect, it } from "vitest";
import { openBackend } from "./backend.js";
import { SERVER_MIGRATIONS } from "./schema.js";
import { testDatabase } from "./testing/mariadb.js";
import { holdMigrationLock } from "./testkit/migrationLock.js";

const LATEST = SERVER_MIGRATIONS.at(-1)?.version ?? 0;

describe("the MariaDB migration lock", () => {
  it("is per database: a server opens its database while another database's migration lock is held", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sotto-lock-"));
    try {
      const other = (await testDatabase()).database as string;
      const release = await holdMigrationLock(other);
      try {
        const backend = await openBackend({ dataDir: dir, ...(await testDatabase()) });
        expect(await schemaVersion(backend.sql, "server")).toBe(LATEST);
        await backend.close();
      } finally {
        await release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
