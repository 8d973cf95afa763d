// `role` is checked before anything starts: web and worker processes only make sense on a shared database, and
// a worker (which serves nothing) must be told the origin its web processes serve. The roles at work, with
// processes on one MariaDB, are apps/daemon's scaleOut.e2e.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startServer } from "./server.js";

describe("server roles", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sotto-roles-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("refuses web or worker on a SQLite file, saying why", async () => {
    for (const role of ["web", "worker"] as const) {
      await expect(startServer({ dataDir, role })).rejects.toMatchObject({
        code: "invalid_config",
        message: expect.stringContaining("database the other processes share"),
      });
    }
  });

  it("refuses a worker without the origin of its web processes", async () => {
    await expect(
      startServer({ database: "mysql://root@127.0.0.1:3306/unused", role: "worker" }),
    ).rejects.toMatchObject({ code: "invalid_config", message: expect.stringContaining("origin") });
  });
});
