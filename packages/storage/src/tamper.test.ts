import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "./store.js";
import { expectStorageError, FAST_ARGON2ID, messageUnit, tempDir, writeKeyFile } from "./test-support.js";

/** Damage done with a plain SQLite connection, as someone with the file but not the key could. */
function raw(path: string, fn: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

describe("a damaged store fails closed with a typed error", () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let keyFile: string;

  beforeEach(async () => {
    tmp = tempDir();
    path = `${tmp.dir}/account.db`;
    keyFile = writeKeyFile(`${tmp.dir}/key`);
    const store = await openStore({ path, key: { keyFile } });
    for (let i = 1; i <= 200; i++) store.apply(messageUnit(i));
    store.close();
  });

  afterEach(() => tmp.remove());

  it("a flipped byte in a stored value on disk: tampered", async () => {
    let sealed: Uint8Array = new Uint8Array();
    raw(path, (db) => {
      const row = db
        .prepare("SELECT content FROM messages WHERE id = ?")
        .get("https://example.test/messages/7");
      sealed = row?.content as Uint8Array;
    });
    const file = readFileSync(path);
    const at = file.indexOf(sealed);
    expect(at).toBeGreaterThan(0);
    file[at + 20] = (file[at + 20] as number) ^ 0x01;
    writeFileSync(path, file);

    const store = await openStore({ path, key: { keyFile } });
    await expectStorageError(() => store.message("https://example.test/messages/7"), "tampered");
    await expectStorageError(() => store.messages("group-1", { limit: 500 }), "tampered");
    await expectStorageError(() => store.check(), "tampered");
    // Untouched rows still read.
    expect(store.message("https://example.test/messages/8")?.body).toEqual({ text: "message number 8" });
    store.close();
  });

  it("a value swapped into another row, table or column: tampered", async () => {
    raw(path, (db) => {
      const get = db.prepare("SELECT content FROM messages WHERE id = ?");
      const one = get.get("https://example.test/messages/1")?.content as Uint8Array;
      const two = get.get("https://example.test/messages/2")?.content as Uint8Array;
      const set = db.prepare("UPDATE messages SET content = ? WHERE id = ?");
      set.run(two, "https://example.test/messages/1");
      set.run(one, "https://example.test/messages/2");
      // The group's sealed meta, under the group's own id, moved into its state column.
      db.prepare("UPDATE groups SET state = meta").run();
    });
    const store = await openStore({ path, key: { keyFile } });
    const swapped = await expectStorageError(
      () => store.message("https://example.test/messages/1"),
      "tampered",
    );
    expect(swapped.message).toBe("messages.content of a row failed authentication");
    await expectStorageError(() => store.message("https://example.test/messages/2"), "tampered");
    const moved = await expectStorageError(() => store.group("group-1"), "tampered");
    expect(moved.message).toBe("groups.state of a row failed authentication");
    // The rows left alone still read.
    expect(store.message("https://example.test/messages/3")?.body).toEqual({ text: "message number 3" });
    store.close();
  });

  it("an event's sealed data moved to another seq: tampered", async () => {
    raw(path, (db) => {
      const data = db.prepare("SELECT data FROM events WHERE seq = 5").get()?.data as Uint8Array;
      db.prepare("UPDATE events SET data = ? WHERE seq = 6").run(data);
    });
    const store = await openStore({ path, key: { keyFile } });
    await expectStorageError(() => store.since(4, 10), "tampered");
    expect(store.since(0, 5).events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    store.close();
  });

  it("a clear column changed (order, conversation, deleted flag, state, verification, epoch, outbox): tampered", async () => {
    const other = await openStore({ path, key: { keyFile } });
    other.apply({
      contacts: [{ actor: "https://example.test/users/bob", devices: [], verification: "changed" }],
      outbox: [{ op: "enqueue", id: "o1", conversation: "group-1", payload: { activity: "x" } }],
    });
    other.close();
    const m = (i: number) => `https://example.test/messages/${i}`;
    raw(path, (db) => {
      db.prepare("UPDATE messages SET at = at + 1000 WHERE id = ?").run(m(1)); // moved in the thread
      db.prepare("UPDATE messages SET conversation = 'group-2' WHERE id = ?").run(m(2)); // moved to another
      db.prepare("UPDATE messages SET deleted_at = 1 WHERE id = ?").run(m(3)); // shown as deleted
      db.prepare("UPDATE messages SET direction = 'out', state = 'sent' WHERE id = ?").run(m(4));
      db.exec("UPDATE contacts SET verification = 'verified'"); // a changed key shown as verified
      db.exec("UPDATE groups SET epoch = epoch + 5");
      db.exec("UPDATE outbox SET state = 'sent'"); // never sent, shown as sent
      db.exec("UPDATE events SET type = 'conversation.created' WHERE seq = 9");
    });
    const store = await openStore({ path, key: { keyFile } });
    for (const i of [1, 2, 3, 4]) await expectStorageError(() => store.message(m(i)), "tampered");
    await expectStorageError(() => store.messages("group-1"), "tampered");
    await expectStorageError(() => store.messages("group-2"), "tampered");
    await expectStorageError(() => store.contact("https://example.test/users/bob"), "tampered");
    await expectStorageError(() => store.group("group-1"), "tampered");
    await expectStorageError(() => store.groups(), "tampered");
    await expectStorageError(() => store.outboxItem("o1"), "tampered");
    await expectStorageError(() => store.since(8, 2), "tampered");
    await expectStorageError(() => store.check(), "tampered");
    expect(store.message(m(5))?.body).toEqual({ text: "message number 5" });
    store.close();
  });

  it("a truncated file: corrupt", async () => {
    truncateSync(path, Math.floor(statSync(path).size / 2));
    await expectStorageError(() => openStore({ path, key: { keyFile } }), "corrupt");
  });

  it("a file that is not a database, or not a Sotto store: corrupt", async () => {
    writeFileSync(path, Buffer.alloc(8192, 7));
    await expectStorageError(() => openStore({ path, key: { keyFile } }), "corrupt");
    const other = `${tmp.dir}/other.db`;
    raw(other, (db) => db.exec("CREATE TABLE notes (text TEXT)"));
    await expectStorageError(() => openStore({ path: other, key: { keyFile } }), "corrupt");
  });

  it("a store from a newer Sotto: newer_schema", async () => {
    raw(path, (db) => db.exec("PRAGMA user_version = 99"));
    await expectStorageError(() => openStore({ path, key: { keyFile } }), "newer_schema");
  });

  it("a damaged keyring record: wrong_key (nothing is served)", async () => {
    raw(path, (db) => {
      const wrapped = db.prepare("SELECT wrapped FROM keyring").get()?.wrapped as Uint8Array;
      wrapped[10] = (wrapped[10] as number) ^ 0x80;
      db.prepare("UPDATE keyring SET wrapped = ?").run(wrapped);
    });
    await expectStorageError(() => openStore({ path, key: { keyFile } }), "wrong_key");
  });

  it("a removed keyring record: corrupt (no new data key for a store with data)", async () => {
    raw(path, (db) => db.exec("DELETE FROM keyring"));
    const error = await expectStorageError(() => openStore({ path, key: { keyFile } }), "corrupt");
    expect(error.message).toBe("the keyring record is missing");
  });

  it("absurd key-derivation parameters: corrupt, before any work is done", async () => {
    const store = await openStore({
      path: `${tmp.dir}/pw.db`,
      key: { passphrase: "pw" },
      argon2id: FAST_ARGON2ID,
    });
    store.close();
    raw(`${tmp.dir}/pw.db`, (db) => {
      const kdf = JSON.parse(db.prepare("SELECT kdf FROM keyring").get()?.kdf as string);
      db.prepare("UPDATE keyring SET kdf = ?").run(JSON.stringify({ ...kdf, memory: 2 ** 31 }));
    });
    await expectStorageError(
      () => openStore({ path: `${tmp.dir}/pw.db`, key: { passphrase: "pw" } }),
      "corrupt",
    );
  });

  it("a missing store with create: false: not_found", async () => {
    await expectStorageError(
      () => openStore({ path: `${tmp.dir}/none.db`, key: { keyFile }, create: false }),
      "not_found",
    );
  });
});
