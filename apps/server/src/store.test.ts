// The storage interface on the back end of this test project (SQLite file or MariaDB): schema versions, and the
// whole operations being all-or-nothing and idempotent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { schemaVersion } from "@sotto/fedify";
import { afterAll, describe, expect, it } from "vitest";
import { type DatabaseOptions, openBackend } from "./backend.js";
import { SERVER_MIGRATIONS } from "./schema.js";
import { testDatabase } from "./testing/mariadb.js";

const LATEST = SERVER_MIGRATIONS.at(-1)?.version ?? 0;

describe("the server's storage", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const fresh = async (): Promise<DatabaseOptions> => {
    const dir = mkdtempSync(join(tmpdir(), "sotto-store-"));
    dirs.push(dir);
    return { dataDir: dir, ...(await testDatabase()) };
  };

  it("brings a new database to the latest schema version, once", async () => {
    const options = await fresh();
    const backend = await openBackend(options);
    expect(await schemaVersion(backend.sql, "server")).toBe(LATEST);
    await backend.close();
    const again = await openBackend(options);
    expect(await schemaVersion(again.sql, "server")).toBe(LATEST);
    await again.close();
  });

  it("adopts tables made before versions were counted, keeping their rows", async () => {
    const options = await fresh();
    const backend = await openBackend(options);
    // As an earlier sotto-server left it: the tables and a user, no schema_versions.
    await backend.sql.run("DROP TABLE schema_versions");
    expect(await backend.store.accounts.add("alice", "[]")).toBe(true);
    await backend.close();
    const adopted = await openBackend(options);
    expect(await schemaVersion(adopted.sql, "server")).toBe(LATEST);
    expect(await adopted.store.accounts.list()).toEqual(["alice"]);
    await adopted.close();
  });

  it("refuses a database whose schema is newer than this program, changing nothing", async () => {
    const options = await fresh();
    const backend = await openBackend(options);
    await backend.sql.run("UPDATE schema_versions SET version = ? WHERE component = 'server'", [LATEST + 1]);
    await backend.close();
    await expect(openBackend(options)).rejects.toMatchObject({ code: "schema_too_new" });
  });

  it("stores a received activity in inbox and messages together, once", async () => {
    const backend = await openBackend(await fresh());
    const { store } = backend;
    const activity = { id: "https://b.example/activities/1", type: "Create" };
    const [inbox, messages] = await store.receive("alice", activity.id, activity, true);
    expect([inbox?.id, messages?.id]).toEqual([activity.id, activity.id]);
    expect(await store.receive("alice", activity.id, activity, true)).toEqual([undefined, undefined]);
    expect((await store.messages.since(0, 10)).map((i) => [i.owner, i.id])).toEqual([["alice", activity.id]]);
    expect(await store.inbox.lastSeq()).toBe(inbox?.seq);
    await backend.close();
  });

  it("writes a post's outbox item, object and aliases in one commit, and takes it back out", async () => {
    const backend = await openBackend(await fresh());
    const { store } = backend;
    const object = { id: "https://a.example/users/alice/objects/1", type: "Note" };
    const activity = { id: "https://a.example/users/alice/activities/1", type: "Create", object };
    await store.post("alice", {
      activity,
      object: { id: object.id, json: object },
      aliases: [["urn:uuid:client-1", activity.id]],
    });
    expect((await store.outbox.find("alice", activity.id))?.activity).toEqual(activity);
    expect((await store.objects.find("alice", object.id))?.activity).toEqual(object);
    expect(await store.resolveAlias("alice", "urn:uuid:client-1")).toBe(activity.id);
    expect(await store.resolveAlias("bob", "urn:uuid:client-1")).toBeUndefined();
    // An alias already taken keeps what it named first.
    await store.post("alice", {
      activity: { ...activity, id: "https://a.example/users/alice/activities/2" },
      aliases: [["urn:uuid:client-1", "https://a.example/users/alice/activities/2"]],
    });
    expect(await store.resolveAlias("alice", "urn:uuid:client-1")).toBe(activity.id);
    await store.unpost("alice", activity.id, object.id);
    expect(await store.outbox.find("alice", activity.id)).toBeUndefined();
    expect(await store.objects.find("alice", object.id)).toBeUndefined();
    await backend.close();
  });

  it("keeps a removed user's name taken and drops its tokens", async () => {
    const backend = await openBackend(await fresh());
    const { accounts } = backend.store;
    expect(await accounts.add("alice", "[]")).toBe(true);
    expect(await accounts.add("alice", "[]")).toBe(false);
    await accounts.addToken("alice", "a".repeat(64));
    expect(await accounts.tokenOwner("a".repeat(64))).toBe("alice");
    expect(await accounts.remove("alice")).toBe(true);
    expect(await accounts.remove("alice")).toBe(false);
    expect(await accounts.tokenOwner("a".repeat(64))).toBeUndefined();
    expect([await accounts.exists("alice"), await accounts.taken("alice")]).toEqual([false, true]);
    await backend.close();
  });
});
