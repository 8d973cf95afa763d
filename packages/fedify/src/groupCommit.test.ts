// Group commit on a real SQLite file: the writes of one event-loop turn share one transaction, a failing one
// rolls back alone, and later writes go in a transaction of their own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupCommit } from "./groupCommit.js";

describe("GroupCommit", () => {
  let dir: string;
  let db: DatabaseSync;
  let reader: DatabaseSync;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sotto-group-"));
    db = new DatabaseSync(join(dir, "db.sqlite"));
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER PRIMARY KEY)");
    reader = new DatabaseSync(join(dir, "db.sqlite"));
  });
  afterEach(() => {
    reader.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const insert = (n: number) => () => db.prepare("INSERT INTO t (n) VALUES (?)").run(n).changes;
  const count = () => (reader.prepare("SELECT count(*) AS c FROM t").get() as { c: number }).c;

  it("commits the writes of one turn together, after all of them ran", async () => {
    const group = new GroupCommit(db);
    const seenByOthers: number[] = [];
    const writes = [1, 2, 3].map((n) =>
      group.write(() => {
        // Another connection sees none of the group's rows until its one COMMIT.
        seenByOthers.push(count());
        return insert(n)();
      }),
    );
    expect(count()).toBe(0);
    expect(await Promise.all(writes)).toEqual([1, 1, 1]);
    expect(seenByOthers).toEqual([0, 0, 0]);
    expect(count()).toBe(3);
  });

  it("rolls back a failing write alone, and the next turn's writes commit on their own", async () => {
    const group = new GroupCommit(db);
    const first = group.write(insert(1));
    const duplicate = group.write(() => {
      insert(2)();
      return insert(1)(); // a primary-key violation: this write's row 2 goes too
    });
    const third = group.write(insert(3));
    await expect(duplicate).rejects.toThrow();
    expect(await first).toBe(1);
    expect(await third).toBe(1);
    expect(reader.prepare("SELECT n FROM t ORDER BY n").all()).toEqual([{ n: 1 }, { n: 3 }]);
    expect(await group.write(insert(4))).toBe(1);
    expect(count()).toBe(3);
  });
});
