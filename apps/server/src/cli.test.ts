// The CLI against a real data directory, checked through a running server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./commands.js";
import { startServer } from "./index.js";
import { testDatabase } from "./testing/mariadb.js";
import { get } from "./testkit/client.js";

describe("sotto-server CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "sotto-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // On MariaDB (the `mariadb` test project) the commands and the server use a database of their own.
  let database: { database?: string } = {};
  beforeAll(async () => {
    database = await testDatabase();
  });

  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {
        SOTTO_DATA_DIR: dir,
        ...(database.database === undefined ? {} : { SOTTO_DATABASE: database.database }),
      },
    });
    return { code, out, err };
  };
  const token = (lines: string[]) => lines.find((l) => l.startsWith("token "))?.slice(6) ?? "";

  it("adds users, issues and revokes tokens, removes users", async () => {
    const config = join(dir, "server.json");
    writeFileSync(config, JSON.stringify({ origin: "https://social.example" }));
    const added = await run("--config", config, "add-user", "alice");
    expect(added.code).toBe(0);
    expect(added.out[0]).toBe("user alice https://social.example/users/alice");
    const first = token(added.out);
    const second = token((await run("issue-token", "alice")).out);
    expect(second).not.toBe(first);
    expect((await run("list-users")).out).toEqual(["alice"]);

    const server = await startServer({ dataDir: dir, ...database });
    try {
      const messages = `${server.origin}/users/alice/messages`;
      expect((await get(messages, first)).status).toBe(200);
      expect((await run("revoke-token", "alice", first)).out).toEqual(["revoked 1 token"]);
      expect((await get(messages, first)).status).toBe(401);
      expect((await get(messages, second)).status).toBe(200);
      expect((await run("remove-user", "alice")).code).toBe(0);
      expect((await get(messages, second)).status).toBe(404);
      expect((await get(`${server.origin}/users/alice`)).status).toBe(404);
      // The name is never handed out again, so nobody inherits alice's mail.
      expect((await run("add-user", "alice")).err[0]).toMatch(/user_exists/);
    } finally {
      await server.close();
    }
  });

  it("reports bad input as typed errors with an exit code", async () => {
    const duplicate = await run("add-user", "bob");
    expect(duplicate.code).toBe(0);
    const again = await run("add-user", "bob");
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/^sotto-server: user_exists:/);
    expect((await run("add-user", "Not Valid")).err[0]).toMatch(/invalid_username/);
    expect((await run("add-user", "..")).err[0]).toMatch(/invalid_username/);
    // The XMPP gateway's escaped names: long, hex, with underscores, dots and dashes.
    expect((await run("add-user", `___${"6a".repeat(60)}`)).code).toBe(0);
    expect((await run("add-user", "-dash.dot_")).code).toBe(0);
    expect((await run("remove-user", "nobody")).err[0]).toMatch(/unknown_user/);
    expect((await run("frobnicate")).code).toBe(2);
    const badConfig = join(dir, "bad.json");
    writeFileSync(badConfig, JSON.stringify({ port: "eighty" }));
    expect((await run("--config", badConfig, "list-users")).err[0]).toMatch(/invalid_config: port/);
  });
});
