import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyKeyPackageActivity } from "./keyPackages.js";
import { keyPackageTable, SqlKeyPackageStore } from "./logs.js";
import { sqliteSql } from "./sqlite-sql.js";

const alice = "https://a.example/users/alice";
const bob = "https://b.example/users/bob";
const collectionId = `${alice}/keyPackages`;
const options = { actorId: alice, collectionId };
const keyPackage = (id: string | undefined, content: string) => ({
  ...(id === undefined ? {} : { id }),
  type: "KeyPackage",
  attributedTo: alice,
  mediaType: "message/mls",
  encoding: "base64",
  content,
});

describe("the KeyPackage lifecycle", () => {
  let dir: string;
  let db: DatabaseSync;
  let store: SqlKeyPackageStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sotto-fedify-"));
    db = new DatabaseSync(join(dir, "kp.sqlite"));
    for (const ddl of keyPackageTable("sqlite")) db.exec(ddl);
    store = new SqlKeyPackageStore(sqliteSql(db));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const listed = async () => (await store.listed(alice)).map((r) => r.object.content);

  it("lists a KeyPackage on Create and updates it in place (Emissary)", async () => {
    const kp1 = `${alice}/objects/1`;
    const created = await applyKeyPackageActivity(
      store,
      { type: "Create", actor: alice, object: keyPackage(kp1, "AAA") },
      options,
    );
    expect(created.ok && created.value?.listed).toBe(true);
    await applyKeyPackageActivity(
      store,
      { type: "Create", actor: alice, object: keyPackage(`${alice}/objects/2`, "BBB") },
      options,
    );
    const updated = await applyKeyPackageActivity(
      store,
      { type: "Update", actor: alice, object: keyPackage(kp1, "CCC") },
      options,
    );
    expect(updated.ok).toBe(true);
    // Same id, new content, same place in the collection.
    expect(await listed()).toEqual(["CCC", "BBB"]);
  });

  it("adds an embedded KeyPackage (Bonfire) and removes it by content", async () => {
    const add = await applyKeyPackageActivity(
      store,
      { type: "Add", actor: alice, object: keyPackage(`${alice}/objects/9`, "EMB"), target: collectionId },
      options,
    );
    expect(add.ok).toBe(true);
    expect(await listed()).toEqual(["EMB"]);
    const remove = await applyKeyPackageActivity(
      store,
      { type: "Remove", actor: alice, object: keyPackage(undefined, "EMB"), target: collectionId },
      options,
    );
    expect(remove.ok && remove.value?.id).toBe(`${alice}/objects/9`);
    expect(await listed()).toEqual([]);
  });

  it("removes, re-adds and finally deletes by reference", async () => {
    const id = `${alice}/objects/3`;
    await applyKeyPackageActivity(
      store,
      { type: "Create", actor: alice, object: keyPackage(id, "KP3") },
      options,
    );
    await applyKeyPackageActivity(
      store,
      { type: "Remove", actor: alice, object: id, target: collectionId },
      options,
    );
    expect(await listed()).toEqual([]);
    await applyKeyPackageActivity(
      store,
      { type: "Add", actor: alice, object: id, target: collectionId },
      options,
    );
    expect(await listed()).toEqual(["KP3"]);
    const deleted = await applyKeyPackageActivity(
      store,
      { type: "Delete", actor: alice, object: id },
      options,
    );
    expect(deleted.ok && deleted.value?.deleted).toBe(true);
    expect(await listed()).toEqual([]);
    const again = await applyKeyPackageActivity(
      store,
      { type: "Add", actor: alice, object: id, target: collectionId },
      options,
    );
    expect(again.ok ? undefined : again.error.code).toBe("key_package_deleted");
  });

  it("refuses another actor's KeyPackage, a foreign target and an Update of nothing", async () => {
    const bobs = `${bob}/objects/1`;
    await applyKeyPackageActivity(
      store,
      { type: "Create", actor: bob, object: { ...keyPackage(bobs, "BOB"), attributedTo: bob } },
      { actorId: bob, collectionId: `${bob}/keyPackages` },
    );
    const steal = await applyKeyPackageActivity(
      store,
      { type: "Delete", actor: alice, object: bobs },
      options,
    );
    expect(steal.ok ? undefined : steal.error.code).toBe("not_owner");
    const foreign = await applyKeyPackageActivity(
      store,
      {
        type: "Add",
        actor: alice,
        object: keyPackage(`${alice}/objects/5`, "X"),
        target: `${bob}/keyPackages`,
      },
      options,
    );
    expect(foreign.ok ? undefined : foreign.error.code).toBe("unsupported_target");
    const update = await applyKeyPackageActivity(
      store,
      { type: "Update", actor: alice, object: keyPackage(`${alice}/objects/404`, "Y") },
      options,
    );
    expect(update.ok ? undefined : update.error.code).toBe("unknown_key_package");
    expect((await store.get(bobs))?.deleted).toBe(false);
  });

  it("leaves activities about other things alone", async () => {
    const note = await applyKeyPackageActivity(
      store,
      { type: "Create", actor: alice, object: { type: "Note", content: "hi" } },
      options,
    );
    expect(note.ok && note.value).toBeUndefined();
    const del = await applyKeyPackageActivity(
      store,
      { type: "Delete", actor: alice, object: `${alice}/objects/note` },
      options,
    );
    expect(del.ok && del.value).toBeUndefined();
  });
});
