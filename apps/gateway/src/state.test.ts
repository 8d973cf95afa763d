// The gateway's state on a SQLite file and on MariaDB (127.0.0.1:3306, root, empty password; a database of its
// own, dropped afterwards): what it remembers survives a reopen, also from another process's point of view.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { mysqlSql, openMysqlPool, schemaVersion, sqliteSql } from "@sotto/fedify";
import { afterAll, describe, expect, it } from "vitest";
import { GATEWAY_MIGRATIONS, GatewayState, type StateLocation } from "./state.js";

const MARIADB = "mysql://root@127.0.0.1:3306";
const dir = mkdtempSync(join(tmpdir(), "sotto-gw-state-"));
const databases: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `sotto_gw_${process.pid}_${randomBytes(4).toString("hex")}`;
  const pool = await openMysqlPool(`${MARIADB}/test`);
  await mysqlSql(pool).run(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await pool.end();
  databases.push(name);
  return `${MARIADB}/${name}`;
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (databases.length === 0) return;
  const pool = await openMysqlPool(`${MARIADB}/test`);
  for (const name of databases) await mysqlSql(pool).run(`DROP DATABASE IF EXISTS ${name}`);
  await pool.end();
});

const where: Record<string, () => Promise<StateLocation>> = {
  "a SQLite file": async () => ({ path: join(dir, `${randomBytes(4).toString("hex")}.sqlite`) }),
  MariaDB: async () => ({ database: await freshDatabase() }),
};

describe.each(Object.keys(where))("GatewayState on %s", (name) => {
  it("keeps id pairs, notices, actors, receipts, media and cursors across a reopen", async () => {
    const location = await (where[name] as () => Promise<StateLocation>)();
    const a = await GatewayState.open(location);
    a.remember("c1", { xmppId: "x1", messageId: "urn:uuid:n1", author: "xmpp" });
    a.remember("c1", { xmppId: "x1", messageId: "urn:uuid:other", author: "xmpp" }); // the first one stays
    a.remember("c1", { xmppId: "x2", messageId: "urn:uuid:n2", author: "xmpp" }, "stanza-2");
    expect(a.firstTime("c1")).toBe(true);
    expect(a.firstTime("c1")).toBe(false);
    a.setActor({ handle: "bob@s.example", actorId: "https://s.example/users/bob", name: "Bob" });
    a.setCursor("alice", "42");
    a.awaitReceipt("c1", "urn:uuid:n2", "stanza-2");
    const token = a.mediaToken("alice@x.example", "urn:uuid:n3", 0, () => "tok-1");
    expect(a.mediaToken("alice@x.example", "urn:uuid:n3", 0, () => "tok-2")).toBe(token);
    await a.close();

    const b = await GatewayState.open(location);
    expect(b.byXmppId("c1", "x1")).toEqual({ xmppId: "x1", messageId: "urn:uuid:n1", author: "xmpp" });
    expect(b.byMessageId("c1", "urn:uuid:n1")?.xmppId).toBe("x1");
    expect(b.byMessageId("c1", "urn:uuid:other")).toBeUndefined();
    expect(b.byXmppId("c2", "x1")).toBeUndefined();
    expect(b.byXmppId("c1", "stanza-2")).toEqual({ xmppId: "x2", messageId: "urn:uuid:n2", author: "xmpp" });
    expect(b.byXmppId("c2", "stanza-2")).toBeUndefined();
    expect(b.firstTime("c1")).toBe(false);
    expect(b.actorById("https://s.example/users/bob")).toEqual({
      handle: "bob@s.example",
      actorId: "https://s.example/users/bob",
      name: "Bob",
    });
    expect(b.cursor("alice")).toBe("42");
    expect(b.mediaFile("tok-1")).toEqual({ user: "alice@x.example", messageId: "urn:uuid:n3", index: 0 });
    expect(b.takeReceipt("c1", "urn:uuid:n2")).toBe("stanza-2");
    expect(b.takeReceipt("c1", "urn:uuid:n2")).toBeUndefined(); // answered once
    b.setCursor("alice", "43");
    b.setActor({ handle: "bob@s.example", actorId: "https://s.example/users/bob2" });
    await b.close();

    const c = await GatewayState.open(location);
    expect(c.cursor("alice")).toBe("43");
    expect(c.takeReceipt("c1", "urn:uuid:n2")).toBeUndefined();
    expect(c.actor("bob@s.example")).toEqual({
      handle: "bob@s.example",
      actorId: "https://s.example/users/bob2",
    });
    expect(c.actorById("https://s.example/users/bob")).toBeUndefined();
    await c.close();
  });
});

describe("GatewayState's commits (SQLite)", () => {
  it("writes the changes of one turn of the event loop in one commit, and nothing for an unchanged cursor", async () => {
    const path = join(dir, "commits.sqlite");
    const state = await GatewayState.open({ path });
    const reader = new DatabaseSync(path);
    // SQLite's data_version moves when another connection committed since it was last read.
    const version = () =>
      (reader.prepare("PRAGMA data_version").get() as { data_version: number }).data_version;
    const changes = () =>
      (reader.prepare("SELECT count(*) AS n FROM gateway_cursors").get() as { n: number }).n +
      (reader.prepare("SELECT count(*) AS n FROM gateway_messages").get() as { n: number }).n;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const before = version();
    state.setCursor("alice", "1");
    state.setCursor("alice", "2");
    state.remember("c1", { xmppId: "x1", messageId: "urn:uuid:n1", author: "xmpp" });
    expect(changes()).toBe(0); // not yet: at the end of this turn
    await turn();
    expect(changes()).toBe(2);
    expect(reader.prepare("SELECT position FROM gateway_cursors").get()).toEqual({ position: "2" });
    const afterOne = version();
    expect(afterOne).not.toBe(before);
    state.setCursor("alice", "2");
    await turn();
    expect(version()).toBe(afterOne); // unchanged: no commit
    reader.close();
    await state.close();
  });
});

describe("GatewayState's schema", () => {
  it("adopts a file of an earlier version (tables without the gateway_ prefix), keeping its rows", async () => {
    const path = join(dir, "old.sqlite");
    const old = new DatabaseSync(path);
    for (const statement of GATEWAY_MIGRATIONS[0]?.statements("sqlite") ?? []) old.exec(statement);
    old.exec("INSERT INTO cursors (name, position) VALUES ('alice', '7')");
    old.close();
    const state = await GatewayState.open({ path });
    expect(state.cursor("alice")).toBe("7");
    await state.close();
    const db = new DatabaseSync(path);
    expect(await schemaVersion(sqliteSql(db), "gateway")).toBe(GATEWAY_MIGRATIONS.at(-1)?.version);
    db.close();
  });
});
