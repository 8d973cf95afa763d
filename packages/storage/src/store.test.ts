import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MessageRecord } from "./records.js";
import type { CommitInfo } from "./store.js";
import { openStore, type Store } from "./store.js";
import { expectStorageError, FAST_ARGON2ID, messageRecord, messageUnit, tempDir } from "./test-support.js";

describe("Store", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let path: string;

  beforeEach(async () => {
    tmp = tempDir();
    path = `${tmp.dir}/account.db`;
    store = await openStore({ path, key: { passphrase: "correct horse" }, argon2id: FAST_ARGON2ID });
  });

  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it("writes a unit of work and reads every part back", () => {
    expect(store.hasMessage("https://example.test/messages/1")).toBe(false);
    const result = store.apply(messageUnit(1, "hello"));
    expect(result.applied).toBe(true);
    expect(store.hasMessage("https://example.test/messages/1")).toBe(true);
    expect(result.events.map((e) => e.seq)).toEqual([1]);
    expect(store.message("https://example.test/messages/1")).toMatchObject({
      conversation: "group-1",
      author: "https://example.test/users/bob",
      body: { text: "hello" },
      state: "received",
      direction: "in",
      editedAt: null,
      deletedAt: null,
    });
    expect(store.group("group-1")?.state).toEqual(new Uint8Array(64).fill(1));
    expect(store.groups()).toEqual([
      expect.objectContaining({ id: "group-1", epoch: 1, members: ["a", "b"] }),
    ]);
    expect(store.groupSummary("group-1")).toEqual(store.groups()[0]);
    expect(store.groupSummary("group-2")).toBeUndefined();
    expect(store.cursor("messages")).toBe("https://example.test/activities/1");
    expect(store.isProcessed("https://example.test/activities/1")).toBe(true);
    expect(store.isProcessed("https://example.test/activities/2")).toBe(false);
    expect(store.since(0).events).toMatchObject([{ seq: 1, type: "message.received" }]);
  });

  it("skips a unit whose activity was processed already (idempotent replay)", () => {
    store.apply(messageUnit(1, "first"));
    const again = store.apply({ ...messageUnit(1, "changed on replay") });
    expect(again).toEqual({ applied: false, events: [], heldDropped: [] });
    expect(store.message("https://example.test/messages/1")?.body).toEqual({ text: "first" });
    expect(store.lastSeq).toBe(1);
  });

  it("still skips a processed activity when it was found unprocessed before another unit", () => {
    const a = "https://example.test/activities/a";
    const b = "https://example.test/activities/b";
    expect(store.isProcessed(a)).toBe(false);
    expect(store.apply({ activityId: a }).applied).toBe(true);
    // The answer was for one unit: a second unit of the same activity is looked up again.
    expect(store.apply({ activityId: a }).applied).toBe(false);
    expect(store.isProcessed(b)).toBe(false);
    expect(store.apply({ activityId: b }).applied).toBe(true);
    expect(store.isProcessed(b)).toBe(true);
    expect(store.apply({ activityId: b }).applied).toBe(false);
  });

  it("keeps device keys, KeyPackage private parts, contacts and settings", () => {
    const privateKey = new Uint8Array([1, 2, 3, 4]);
    store.apply({
      deviceKeys: [{ id: "signature", publicKey: new Uint8Array([9]), privateKey, createdAt: 5 }],
      keyPackages: [
        { ref: "kp1", keyPackage: new Uint8Array([7]), privateKey, createdAt: 6, objectId: "https://o/kp/1" },
        { ref: "kp2", keyPackage: new Uint8Array([8]), privateKey, createdAt: 7, lastResort: true },
      ],
      contacts: [
        {
          actor: "https://example.test/users/bob",
          name: "Bob",
          devices: [{ fingerprint: "AB CD", firstSeen: 3 }],
          verification: "verified",
        },
      ],
      settings: { theme: "dark", retries: { max: 5 } },
    });
    expect(store.deviceKey("signature")).toEqual({
      id: "signature",
      publicKey: new Uint8Array([9]),
      privateKey,
      createdAt: 5,
    });
    expect(store.keyPackages().map((k) => [k.ref, k.objectId, k.lastResort])).toEqual([
      ["kp1", "https://o/kp/1", false],
      ["kp2", undefined, true],
    ]);
    expect(store.contact("https://example.test/users/bob")).toEqual({
      actor: "https://example.test/users/bob",
      name: "Bob",
      devices: [{ fingerprint: "AB CD", firstSeen: 3 }],
      verification: "verified",
    });
    expect(store.setting("retries")).toEqual({ max: 5 });

    store.apply({ keyPackagesRemoved: ["kp1"], settings: { theme: null }, contactsRemoved: [] });
    expect(store.keyPackage("kp1")).toBeUndefined();
    expect(store.keyPackage("kp2")?.privateKey).toEqual(privateKey);
    expect(store.setting("theme")).toBeUndefined();
  });

  it("keeps edit, delete and reaction history, and erases content on delete", () => {
    store.apply(messageUnit(1, "original"));
    const messageId = "https://example.test/messages/1";
    store.apply({
      messageChanges: [
        { id: "edit-1", messageId, kind: "edit", actor: "bob", at: 10, data: { text: "edited" } },
        { id: "react-1", messageId, kind: "reaction", actor: "alice", at: 11, data: "👍" },
      ],
    });
    expect(store.message(messageId)).toMatchObject({ body: { text: "edited" }, editedAt: 10 });
    expect(store.messageHistory(messageId)).toMatchObject([
      { id: "edit-1", kind: "edit", actor: "bob", data: { text: "edited" }, previous: { text: "original" } },
      { id: "react-1", kind: "reaction", actor: "alice", data: "👍", previous: null },
    ]);

    store.apply({ messageChanges: [{ id: "delete-1", messageId, kind: "delete", actor: "bob", at: 12 }] });
    expect(store.message(messageId)).toMatchObject({ body: null, deletedAt: 12 });
    const history = store.messageHistory(messageId);
    expect(history.find((h) => h.id === "edit-1")).toMatchObject({ data: null, previous: null });
    expect(history.find((h) => h.id === "react-1")?.data).toBe("👍");

    // A replayed message upsert does not bring deleted content back.
    store.apply({ messages: [messageRecord(1, "original")] });
    expect(store.message(messageId)?.body).toBeNull();
  });

  it("moves outbox items queued -> retry -> sent, and queued -> failed", () => {
    store.apply({
      at: 100,
      outbox: [
        { op: "enqueue", id: "out-1", payload: { type: "Create" }, conversation: "group-1" },
        { op: "enqueue", id: "out-2", payload: { type: "Create" }, notBefore: 500 },
      ],
      messages: [{ ...messageRecord(1), direction: "out", state: "queued" }],
    });
    expect(store.outboxDue(100).map((o) => o.id)).toEqual(["out-1"]);
    store.apply({ at: 110, outbox: [{ op: "retry", id: "out-1", error: "HTTP 503", nextAttemptAt: 200 }] });
    expect(store.outboxDue(150)).toEqual([]);
    expect(store.outboxItem("out-1")).toMatchObject({ state: "queued", attempts: 1, lastError: "HTTP 503" });
    store.apply({
      at: 210,
      outbox: [{ op: "sent", id: "out-1" }],
      messageStates: [{ id: "https://example.test/messages/1", state: "sent" }],
    });
    store.apply({ at: 600, outbox: [{ op: "failed", id: "out-2", error: "gone" }] });
    expect(store.outbox("sent").map((o) => [o.id, o.payload])).toEqual([["out-1", { type: "Create" }]]);
    expect(store.outbox("failed")).toMatchObject([{ id: "out-2", attempts: 1, lastError: "gone" }]);
    expect(store.message("https://example.test/messages/1")?.state).toBe("sent");
  });

  it("writes all of a unit or nothing of it", async () => {
    store.apply(messageUnit(1));
    const failing = { ...messageUnit(2), outbox: [{ op: "sent" as const, id: "no-such-item" }] };
    await expectStorageError(() => store.apply(failing), "invalid_unit");
    expect(store.message("https://example.test/messages/2")).toBeUndefined();
    expect(store.cursor("messages")).toBe("https://example.test/activities/1");
    expect(store.isProcessed("https://example.test/activities/2")).toBe(false);
    expect(store.group("group-1")?.state).toEqual(new Uint8Array(64).fill(1));
    // The seq of the rolled-back event is not skipped.
    expect(store.apply(messageUnit(3)).events[0]?.seq).toBe(2);
  });

  it("commits relaxed units like any other and makes them durable on flush or the next durable unit", async () => {
    expect(store.unflushed).toBe(false);
    expect(store.apply(messageUnit(1), { durable: false }).applied).toBe(true);
    expect(store.unflushed).toBe(true);
    expect(store.message("https://example.test/messages/1")?.body).toEqual({ text: "message number 1" });
    store.flush();
    expect(store.unflushed).toBe(false);
    store.apply(messageUnit(2), { durable: false });
    store.apply(messageUnit(3));
    expect(store.unflushed).toBe(false);
    // A replayed relaxed unit writes nothing and leaves the flag alone.
    expect(store.apply(messageUnit(3), { durable: false }).applied).toBe(false);
    expect(store.unflushed).toBe(false);
    store.apply(messageUnit(4), { durable: false });
    store.close();
    store = await openStore({ path, key: { passphrase: "correct horse" }, argon2id: FAST_ARGON2ID });
    expect(store.messages("group-1", { limit: 10 }).map((m) => m.id)).toEqual(
      [1, 2, 3, 4].map((i) => `https://example.test/messages/${i}`),
    );
    expect(store.cursor("messages")).toBe("https://example.test/activities/4");
  });

  it("refuses to flush inside a batch (SQLite cannot checkpoint there), and flushes after it", async () => {
    store.apply(messageUnit(1), { durable: false });
    await store.batch(
      async () => {
        store.apply(messageUnit(2), { durable: false });
        expect(() => store.flush()).toThrow(expect.objectContaining({ code: "invalid_unit" }));
      },
      { durable: false },
    );
    expect(store.unflushed).toBe(true);
    store.flush();
    expect(store.unflushed).toBe(false);
    expect(store.message("https://example.test/messages/2")).toBeDefined();
  });

  it("syncs relaxed units with one durable commit of its own, only when one waits, and not inside a batch", async () => {
    store.apply(messageUnit(1), { durable: false });
    expect(store.unflushed).toBe(true);
    store.sync();
    expect(store.unflushed).toBe(false);
    store.sync();
    store.apply(messageUnit(2));
    store.sync();
    store.apply(messageUnit(3), { durable: false });
    await store.batch(
      async () => {
        expect(() => store.sync()).toThrow(expect.objectContaining({ code: "invalid_unit" }));
      },
      { durable: false },
    );
    expect(store.unflushed).toBe(true);
    store.sync();
    expect(store.unflushed).toBe(false);
    store.close();
    // Two syncs had something to make durable, each one commit; the others wrote nothing.
    const db = new DatabaseSync(path, { readOnly: true });
    expect(db.prepare("SELECT value FROM meta WHERE name = 'synced'").get()).toEqual({ value: 2 });
    db.close();
    store = await openStore({ path, key: { passphrase: "correct horse" }, argon2id: FAST_ARGON2ID });
    expect(store.messages("group-1", { limit: 10 })).toHaveLength(3);
  });

  it("has nothing to flush when the store was opened with durability normal", async () => {
    store.close();
    store = await openStore({ path, key: { passphrase: "correct horse" }, durability: "normal" });
    store.apply(messageUnit(1), { durable: false });
    expect(store.unflushed).toBe(false);
    store.flush();
    expect(store.message("https://example.test/messages/1")).toBeDefined();
  });

  it("commits a batch's units in one transaction, told to listeners after it, and posts nothing before", async () => {
    const told: number[][] = [];
    store.onCommit((info) => told.push(info.events.map((e) => e.seq)));
    const receipt = { op: "enqueue" as const, id: "receipt-1", payload: { type: "Read" } };
    const value = await store.batch(async () => {
      store.apply(messageUnit(1));
      await new Promise((r) => setTimeout(r, 1));
      store.apply({ ...messageUnit(2), outbox: [receipt] });
      // Replays and reads inside the batch see what it wrote so far.
      expect(store.apply(messageUnit(2)).applied).toBe(false);
      expect(store.message("https://example.test/messages/2")).toBeDefined();
      expect(store.outboxDue(Number.MAX_SAFE_INTEGER)).toEqual([]);
      expect(store.batching).toBe(true);
      expect(told).toEqual([]);
      return "done";
    });
    expect(value).toBe("done");
    expect(store.batching).toBe(false);
    expect(told).toEqual([[1], [2]]);
    expect(store.outboxDue(Number.MAX_SAFE_INTEGER).map((i) => i.id)).toEqual(["receipt-1"]);
    expect(store.cursor("messages")).toBe("https://example.test/activities/2");
  });

  it("rolls back a failing unit alone inside a batch, and the whole batch when it throws", async () => {
    const told: number[][] = [];
    store.onCommit((info) => told.push(info.events.map((e) => e.seq)));
    await store.batch(async () => {
      store.apply(messageUnit(1));
      const failing = { ...messageUnit(2), outbox: [{ op: "sent" as const, id: "no-such-item" }] };
      await expectStorageError(() => store.apply(failing), "invalid_unit");
      store.apply(messageUnit(3));
    });
    expect(store.message("https://example.test/messages/2")).toBeUndefined();
    expect(store.isProcessed("https://example.test/activities/2")).toBe(false);
    expect(told).toEqual([[1], [2]]);
    const failure = new Error("the caller failed");
    await expect(
      store.batch(async () => {
        store.apply(messageUnit(4));
        await expectStorageError(() => store.batch(async () => {}), "invalid_unit");
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(store.message("https://example.test/messages/4")).toBeUndefined();
    expect(store.cursor("messages")).toBe("https://example.test/activities/3");
    expect(told).toEqual([[1], [2]]);
    // The seq of the rolled-back events is not skipped.
    expect(store.apply(messageUnit(5)).events[0]?.seq).toBe(3);
  });

  it("leaves a relaxed batch to be flushed", async () => {
    await store.batch(async () => void store.apply(messageUnit(1)), { durable: false });
    expect(store.unflushed).toBe(true);
    await store.batch(async () => void store.apply(messageUnit(2)));
    expect(store.unflushed).toBe(false);
  });

  it("refuses group state that goes back an epoch", async () => {
    store.apply({ groups: [{ id: "g", epoch: 5, state: new Uint8Array([5]), members: [] }] });
    await expectStorageError(
      () => store.apply({ groups: [{ id: "g", epoch: 4, state: new Uint8Array([4]), members: [] }] }),
      "invalid_unit",
    );
    expect(store.group("g")?.epoch).toBe(5);
  });

  it("tells commit listeners about new events, after the commit", () => {
    const seen: CommitInfo[] = [];
    const unsubscribe = store.onCommit((info) => {
      // The events are already readable when listeners run.
      expect(store.since(info.last - 1).events.at(-1)?.seq).toBe(info.last);
      seen.push(info);
    });
    store.apply(messageUnit(1));
    store.apply(messageUnit(1)); // duplicate: nothing committed, no notification
    store.apply(messageUnit(2));
    unsubscribe();
    store.apply(messageUnit(3));
    expect(seen.map((s) => [s.last, s.events.map((e) => e.seq)])).toEqual([
      [1, [1]],
      [2, [2]],
    ]);
  });

  it("reports a listener's error without undoing the commit", () => {
    const errors: unknown[] = [];
    store.close();
    return openStore({
      path,
      key: { passphrase: "correct horse" },
      onListenerError: (e) => errors.push(e),
    }).then((reopened) => {
      store = reopened;
      store.onCommit(() => {
        throw new Error("listener bug");
      });
      expect(store.apply(messageUnit(1)).applied).toBe(true);
      expect(errors).toHaveLength(1);
      expect(store.isProcessed("https://example.test/activities/1")).toBe(true);
    });
  });

  it("pages events with since() and reports a gap when retention dropped some", async () => {
    store.close();
    store = await openStore({ path, key: { passphrase: "correct horse" }, keepEvents: 10 });
    for (let i = 1; i <= 30; i++) store.apply(messageUnit(i));
    const page = store.since(0, 5);
    expect(page.gap).not.toBeNull();
    expect(page.gap?.from).toBe(1);
    const first = page.events[0]?.seq ?? 0;
    expect(page.gap?.to).toBe(first - 1);
    expect(page.events.map((e) => e.seq)).toEqual([first, first + 1, first + 2, first + 3, first + 4]);
    expect(page.last).toBe(30);
    expect(store.since(29)).toEqual({ events: [expect.objectContaining({ seq: 30 })], gap: null, last: 30 });
    expect(store.since(30).events).toEqual([]);

    // seq keeps growing across reopen, never reused.
    store.close();
    store = await openStore({ path, key: { passphrase: "correct horse" }, keepEvents: 10 });
    expect(store.apply(messageUnit(31)).events[0]?.seq).toBe(31);
    expect(store.since(0, 1).gap).not.toBeNull();
  });

  it("lists a conversation's messages newest page first, oldest first within it", () => {
    for (let i = 1; i <= 5; i++) store.apply(messageUnit(i));
    const page = store.messages("group-1", { limit: 2 });
    expect(page.map((m) => m.body)).toEqual([{ text: "message number 4" }, { text: "message number 5" }]);
    const older = store.messages("group-1", { limit: 2, before: page[0]?.at });
    expect(older.map((m) => m.body)).toEqual([{ text: "message number 2" }, { text: "message number 3" }]);
  });

  it("pages messages sharing a millisecond by (at, id), each exactly once", () => {
    // 3 distinct times, 17 messages each, written in an order unrelated to their ids.
    const records: MessageRecord[] = Array.from({ length: 51 }, (_, i) => ({
      ...messageRecord(i),
      id: `https://example.test/messages/${(i * 37) % 51}`,
      at: 1_700_000_000_000 + Math.floor(i / 17),
    }));
    store.apply({ messages: records });
    const seen: string[] = [];
    let page = store.messages("group-1", { limit: 4 });
    for (let pages = 0; page.length > 0 && pages < 100; pages++) {
      seen.unshift(...page.map((m) => m.id));
      const oldest = page[0] as { at: number; id: string };
      page = store.messages("group-1", { limit: 4, before: { at: oldest.at, id: oldest.id } });
    }
    expect(seen).toHaveLength(records.length);
    expect(new Set(seen).size).toBe(records.length);
    const byKey = [...records].sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : 1)).map((m) => m.id);
    expect(seen).toEqual(byKey);
    // The older form, a bare time, still means "everything sent before then".
    const beforeSecond = store.messages("group-1", { limit: 100, before: 1_700_000_000_001 });
    expect(beforeSecond.map((m) => m.id)).toEqual(byKey.slice(0, 17));
  });

  it("counts outbox items per state without reading their payloads", async () => {
    store.apply({
      outbox: [1, 2, 3].map((i) => ({ op: "enqueue" as const, id: `out-${i}`, payload: { n: i } })),
    });
    store.apply({ outbox: [{ op: "failed", id: "out-3", error: "gone" }] });
    expect([store.outboxCount("queued"), store.outboxCount("failed"), store.outboxCount("sent")]).toEqual([
      2, 1, 0,
    ]);
    // Damage every payload: counting does not open them, listing does (and fails closed).
    store.close();
    const db = new DatabaseSync(path);
    db.exec("UPDATE outbox SET payload = randomblob(64)");
    db.close();
    store = await openStore({ path, key: { passphrase: "correct horse" }, argon2id: FAST_ARGON2ID });
    expect(store.outboxCount("queued")).toBe(2);
    await expectStorageError(() => store.outbox("queued"), "tampered");
  });

  it("passes its own full check and refuses use after close", async () => {
    for (let i = 1; i <= 3; i++) store.apply(messageUnit(i));
    // One group row (state, meta), three messages (content), three events (data).
    expect(store.check()).toBe(2 + 3 + 3);
    store.close();
    await expectStorageError(() => store.apply(messageUnit(4)), "closed");
  });
});
