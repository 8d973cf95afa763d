import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendTogether, SqliteActivityLog } from "./sqlite.js";

describe("appendTogether", () => {
  let dir: string;
  let db: DatabaseSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sotto-fedify-"));
    db = new DatabaseSync(join(dir, "logs.sqlite"));
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("appends to several logs at once, each once per id", async () => {
    const [inbox, messages] = [new SqliteActivityLog(db, "inbox"), new SqliteActivityLog(db, "messages")];
    const activity = { id: "https://b.example/1", type: "Create" };
    const both = [inbox, messages].map((log) => ({ log, owner: "alice", id: activity.id, activity }));
    expect(appendTogether(db, both).map((i) => i?.id)).toEqual([activity.id, activity.id]);
    expect(appendTogether(db, both)).toEqual([undefined, undefined]);
    expect([await inbox.count("alice"), await messages.count("alice")]).toEqual([1, 1]);
  });

  it("writes none of them when one fails", async () => {
    const inbox = new SqliteActivityLog(db, "inbox");
    const gone = new SqliteActivityLog(db, "gone");
    db.exec("DROP TABLE gone");
    const activity = { id: "https://b.example/2", type: "Create" };
    expect(() =>
      appendTogether(db, [
        { log: inbox, owner: "alice", id: activity.id, activity },
        { log: gone, owner: "alice", id: activity.id, activity },
      ]),
    ).toThrow();
    expect(await inbox.count("alice")).toBe(0);
  });
});
