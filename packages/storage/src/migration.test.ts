import { chmodSync, copyFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "./store.js";
import { expectStorageError, tempDir } from "./test-support.js";

// fixtures/v1-store.db was written by schema 1 (values bound to table, column and row key only); its key file
// is fixtures/v1-store.key. Opening it re-seals every value bound to its row's clear columns.
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe("a schema-1 store", () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let keyFile: string;

  beforeEach(() => {
    tmp = tempDir();
    path = `${tmp.dir}/v1.db`;
    keyFile = `${tmp.dir}/v1.key`;
    copyFileSync(fixture("v1-store.db"), path);
    copyFileSync(fixture("v1-store.key"), keyFile);
    chmodSync(path, 0o600);
    chmodSync(keyFile, 0o600);
  });

  afterEach(() => tmp.remove());

  const version = () => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    } finally {
      db.close();
    }
  };

  it("keeps every value readable after the migration, and passes the full check", async () => {
    expect(version()).toBe(1);
    const store = await openStore({ path, key: { keyFile } });
    expect(store.check()).toBe(17);
    expect(store.setting("profile")).toEqual({ name: "Bob" });
    expect(store.deviceKey("sig")?.privateKey).toEqual(new Uint8Array([4, 5, 6]));
    expect(store.keyPackage("kp1")).toMatchObject({ privateKey: new Uint8Array([8, 8]), lastResort: true });
    expect(store.group("group-1")).toMatchObject({
      epoch: 3,
      state: new Uint8Array([7, 7, 7]),
      info: { name: "old" },
    });
    const messages = store.messages("group-1");
    expect(messages.map((m) => [m.id, m.body, m.state])).toEqual([
      ["https://a.test/m/1", { text: "one, edited" }, "received"],
      ["https://a.test/m/2", null, "received"],
      ["local-3", { text: "three" }, "sent"],
    ]);
    expect(store.messageHistory("https://a.test/m/1").map((h) => [h.kind, h.data, h.previous])).toEqual([
      ["edit", { text: "one, edited" }, { text: "one" }],
      ["reaction", "👍", null],
    ]);
    expect(store.contact("https://a.test/alice")).toMatchObject({
      name: "Alice",
      verification: "unverified",
    });
    expect(store.outboxItem("o1")).toMatchObject({ attempts: 1, payload: { activity: { type: "Create" } } });
    expect(store.since(0).events.map((e) => e.data)).toEqual([{ messageId: "https://a.test/m/1" }]);
    expect(store.isProcessed("https://a.test/activities/1")).toBe(true);
    // It goes on as a store of this schema: new units, held messages.
    store.apply({
      held: [{ id: "h1", conversation: "g", epoch: -1, sender: "s", rank: 0, activity: { a: 1 } }],
    });
    expect(store.heldActivity("h1")).toEqual({ a: 1 });
    store.close();
    expect(version()).toBe(2);
    const again = await openStore({ path, key: { keyFile } });
    expect(again.check()).toBe(18);
    again.close();
  });

  it("binds the clear columns once migrated: a changed verification or deleted flag is tampered", async () => {
    (await openStore({ path, key: { keyFile } })).close();
    const db = new DatabaseSync(path);
    db.exec("UPDATE contacts SET verification = 'verified'");
    db.exec("UPDATE messages SET deleted_at = 5 WHERE id = 'https://a.test/m/1'");
    db.close();
    const store = await openStore({ path, key: { keyFile } });
    await expectStorageError(() => store.contact("https://a.test/alice"), "tampered");
    await expectStorageError(() => store.message("https://a.test/m/1"), "tampered");
    store.close();
  });

  it("refuses to migrate a value tampered with before: tampered, and the store is left as it was", async () => {
    const db = new DatabaseSync(path);
    const content = db.prepare("SELECT content FROM messages WHERE id = 'local-3'").get()
      ?.content as Uint8Array;
    db.prepare("UPDATE messages SET content = ? WHERE id = 'https://a.test/m/1'").run(content);
    db.close();
    await expectStorageError(() => openStore({ path, key: { keyFile } }), "tampered");
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare("SELECT value FROM meta WHERE name = 'sealed_format'").get()).toBeUndefined();
    check.close();
  });
});
