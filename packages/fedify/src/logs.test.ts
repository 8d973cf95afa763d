import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activityLogIndex, activityLogTable, appendTogether, SqlActivityLog } from "./logs.js";
import { type Migration, migrate, schemaVersion } from "./migrate.js";
import type { Sql } from "./sql.js";
import { sqliteSql } from "./sqlite-sql.js";

describe("logs and migrations on a SQLite file", () => {
  let dir: string;
  let db: DatabaseSync;
  let sql: Sql;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sotto-fedify-"));
    db = new DatabaseSync(join(dir, "logs.sqlite"));
    sql = sqliteSql(db);
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const logs: Migration[] = [
    { version: 1, statements: (d) => activityLogTable(d, "inbox") },
    { version: 2, statements: (d) => [...activityLogTable(d, "messages"), ...activityLogTable(d, "gone")] },
  ];

  it("appends to several logs at once, each once per id", async () => {
    await migrate(sql, "test", logs);
    const [inbox, messages] = [new SqlActivityLog(sql, "inbox"), new SqlActivityLog(sql, "messages")];
    const activity = { id: "https://b.example/1", type: "Create" };
    const both = [inbox, messages].map((log) => ({ log, owner: "alice", id: activity.id, activity }));
    expect((await appendTogether(sql, both)).map((i) => i?.id)).toEqual([activity.id, activity.id]);
    expect(await appendTogether(sql, both)).toEqual([undefined, undefined]);
    expect([await inbox.count("alice"), await messages.count("alice")]).toEqual([1, 1]);
    expect((await inbox.since(0, 10)).map((i) => [i.owner, i.id])).toEqual([["alice", activity.id]]);
    expect(await inbox.lastSeq()).toBe(1);
  });

  it("reads an owner's pages through the (owner, seq) index, without sorting the owner's log", async () => {
    await migrate(sql, "test", [
      ...logs,
      // Twice: a host whose table already has the index may run it again.
      { version: 3, statements: () => [...activityLogIndex("inbox"), ...activityLogIndex("inbox")] },
    ]);
    const inbox = new SqlActivityLog(sql, "inbox");
    for (let i = 0; i < 30; i++)
      await inbox.append(i % 3 === 0 ? "bob" : "alice", `https://b.example/${i}`, {
        id: `https://b.example/${i}`,
      });
    const plan = (query: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${query}`)
        .all("alice", 5, 10)
        .map((row) => String(row.detail))
        .join("; ");
    for (const query of [
      "SELECT seq, id, json, received FROM inbox WHERE owner = ? AND seq > ? ORDER BY seq ASC LIMIT ?",
      "SELECT seq, id, json, received FROM inbox WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
    ]) {
      expect(plan(query)).toContain("USING INDEX inbox_owner_seq");
      expect(plan(query)).not.toContain("TEMP B-TREE");
    }
    const page = await inbox.after("alice", 5, 4);
    expect(page.map((item) => item.id)).toEqual([5, 7, 8, 10].map((i) => `https://b.example/${i}`));
    expect((await inbox.newest("alice", { before: 5, limit: 2 })).map((item) => item.seq)).toEqual([3, 2]);
  });

  it("writes none of them when one fails", async () => {
    await migrate(sql, "test", logs);
    const inbox = new SqlActivityLog(sql, "inbox");
    const gone = new SqlActivityLog(sql, "gone");
    db.exec("DROP TABLE gone");
    const activity = { id: "https://b.example/2", type: "Create" };
    await expect(
      appendTogether(sql, [
        { log: inbox, owner: "alice", id: activity.id, activity },
        { log: gone, owner: "alice", id: activity.id, activity },
      ]),
    ).rejects.toThrow();
    expect(await inbox.count("alice")).toBe(0);
  });

  it("migrates version by version, once, and refuses a database newer than the code", async () => {
    expect(await migrate(sql, "test", logs.slice(0, 1))).toBe(1);
    await new SqlActivityLog(sql, "inbox").append("alice", "https://b.example/3", { type: "Note" });
    expect(await migrate(sql, "test", logs)).toBe(2);
    expect(await migrate(sql, "test", logs)).toBe(2);
    expect(await new SqlActivityLog(sql, "inbox").count("alice")).toBe(1);
    expect(await schemaVersion(sql, "other")).toBe(0);
    await expect(migrate(sql, "test", logs.slice(0, 1))).rejects.toMatchObject({ code: "schema_too_new" });
  });

  it("leaves the version where it was when a migration fails", async () => {
    await migrate(sql, "test", logs.slice(0, 1));
    const broken: Migration = { version: 2, statements: () => ["CREATE TABLE half (a TEXT)", "NOT SQL"] };
    await expect(migrate(sql, "test", [logs[0] as Migration, broken])).rejects.toThrow();
    expect(await schemaVersion(sql, "test")).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
  });
});
