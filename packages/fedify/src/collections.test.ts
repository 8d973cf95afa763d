import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LogCollection, respondWithLog } from "./collections.js";
import { ActivityFeed } from "./feed.js";
import { activityLogTable, SqlActivityLog } from "./logs.js";
import { sqliteSql } from "./sqlite-sql.js";
import type { ActivityLog } from "./storage.js";

const id = "https://a.example/users/alice/messages";
const activity = (n: number) => ({ id: `https://b.example/activities/${n}`, type: "Create", object: { n } });

describe("an owner's ordered log served as a collection", () => {
  let dir: string;
  let db: DatabaseSync;
  let collection: LogCollection;
  let log: SqlActivityLog;
  let feed: ActivityFeed;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sotto-fedify-"));
    db = new DatabaseSync(join(dir, "log.sqlite"));
    for (const ddl of activityLogTable("sqlite", "messages")) db.exec(ddl);
    log = new SqlActivityLog(sqliteSql(db), "messages");
    feed = new ActivityFeed();
    collection = { log, feed, owner: "alice", id, pageSize: 2 };
    for (let n = 1; n <= 5; n++) await log.append("alice", activity(n).id, activity(n));
    await log.append("bob", "https://b.example/other", { type: "Create" });
  });
  afterEach(() => {
    feed.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const json = async (url: string) =>
    (await (await respondWithLog(new Request(url), collection)).json()) as Record<string, unknown>;
  const ns = (page: Record<string, unknown>) =>
    (page.orderedItems as { object: { n: number } }[]).map((i) => i.object.n);

  it("deduplicates appends by activity id", async () => {
    expect(await log.append("alice", activity(1).id, activity(1))).toBeUndefined();
    expect(await log.count("alice")).toBe(5);
  });

  it("describes the collection and pages newest first", async () => {
    const root = await json(id);
    expect(root).toMatchObject({
      type: "OrderedCollection",
      totalItems: 5,
      first: `${id}?page=first`,
      last: `${id}?page=last`,
    });
    const first = await json(root.first as string);
    expect(ns(first)).toEqual([5, 4]);
    const second = await json(first.next as string);
    expect(ns(second)).toEqual([3, 2]);
    const third = await json(second.next as string);
    expect(ns(third)).toEqual([1]);
    expect(third.next).toBeUndefined();
    expect(ns(await json(root.last as string))).toEqual([2, 1]);
  });

  it("reads forward from the oldest or strictly after an item", async () => {
    const start = await json(`${id}?after=`);
    expect(ns(start)).toEqual([1, 2]);
    const next = await json(start.next as string);
    expect(ns(next)).toEqual([3, 4]);
    const after4 = await json(`${id}?after=${encodeURIComponent(activity(4).id)}&limit=10`);
    expect(ns(after4)).toEqual([5]);
    expect(after4.next).toBeUndefined();
    const unknown = await respondWithLog(new Request(`${id}?after=https://nowhere.example/x`), collection);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe("unknown_item");
    expect((await respondWithLog(new Request(`${id}?after=&limit=0`), collection)).status).toBe(400);
  });

  it("serves each item as the log stores it, spliced into the page", async () => {
    const odd = {
      id: "https://b.example/activities/odd",
      type: "Create",
      object: { content: 'quotes " and \\ , line\u2028separator, 🦊 and é', n: 6 },
    };
    await log.append("alice", odd.id, odd);
    const response = await respondWithLog(
      new Request(`${id}?after=${encodeURIComponent(activity(4).id)}&limit=10`),
      collection,
    );
    const text = await response.text();
    expect(text).toContain(JSON.stringify(odd));
    const page = JSON.parse(text) as Record<string, unknown>;
    expect(page.orderedItems).toEqual([activity(5), odd]);
    expect(page).toMatchObject({ type: "OrderedCollectionPage", partOf: id });
    const empty = await json(`${id}?after=${encodeURIComponent(odd.id)}`);
    expect(empty.orderedItems).toEqual([]);
    expect(empty.next).toBeUndefined();
    // A host's own log may hand out items without their stored JSON: the same page, serialised.
    const withoutJson: ActivityLog = {
      append: (owner, itemId, item) => log.append(owner, itemId, item),
      find: (owner, itemId) => log.find(owner, itemId),
      remove: (owner, itemId) => log.remove(owner, itemId),
      count: (owner) => log.count(owner),
      newest: (owner, options) => log.newest(owner, options),
      positionAt: (owner, received) => log.positionAt(owner, received),
      after: async (owner, after, limit) =>
        (await log.after(owner, after, limit)).map(({ seq, id, activity, received }) => ({
          seq,
          id,
          activity,
          received,
        })),
    };
    const serialised = await respondWithLog(
      new Request(`${id}?after=${encodeURIComponent(activity(4).id)}&limit=10`),
      { ...collection, log: withoutJson },
    );
    expect(await serialised.text()).toBe(text);
  });

  it("streams new items as Server-Sent Events, replaying after Last-Event-ID first", async () => {
    const response = await respondWithLog(
      new Request(id, { headers: { accept: "text/event-stream", "last-event-id": activity(3).id } }),
      collection,
    );
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const ids = () => [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]);
    while (ids().length < 2) text += decoder.decode((await reader.read()).value);
    expect(ids()).toEqual([activity(4).id, activity(5).id]);
    const item = await log.append("alice", activity(6).id, activity(6));
    if (item !== undefined) feed.publish("alice", item);
    while (ids().length < 3) text += decoder.decode((await reader.read()).value);
    expect(ids()).toEqual([activity(4).id, activity(5).id, activity(6).id]);
    expect(text).toContain(`data: ${JSON.stringify(activity(6))}`);
    feed.close();
    expect((await reader.read()).done).toBe(true);
  });
});
