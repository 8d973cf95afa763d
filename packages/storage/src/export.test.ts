import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importStore } from "./import-store.js";
import { openStore, type Store } from "./store.js";
import { expectStorageError, FAST_ARGON2ID, messageUnit, tempDir, writeKeyFile } from "./test-support.js";

describe("export and import", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let exported: string;
  const fast = FAST_ARGON2ID;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({
      path: `${tmp.dir}/old.db`,
      key: { passphrase: "old machine" },
      argon2id: fast,
    });
    for (let i = 1; i <= 300; i++) store.apply(messageUnit(i, `moving message ${i}`));
    store.apply({
      deviceKeys: [
        { id: "sig", publicKey: new Uint8Array([1]), privateKey: new Uint8Array([2]), createdAt: 0 },
      ],
    });
    exported = `${tmp.dir}/store.export`;
    await store.exportTo(exported, "export passphrase", fast);
  });

  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it("moves a whole store to a new file under a new key", async () => {
    expect(statSync(exported).mode & 0o777).toBe(0o600);
    expect(readFileSync(exported).indexOf("moving message 1")).toBe(-1);
    const keyFile = writeKeyFile(`${tmp.dir}/new.key`);
    const moved = await importStore({
      from: exported,
      passphrase: "export passphrase",
      path: `${tmp.dir}/new.db`,
      key: { keyFile },
    });
    try {
      expect(moved.message("https://example.test/messages/300")?.body).toEqual({
        text: "moving message 300",
      });
      expect(moved.deviceKey("sig")?.privateKey).toEqual(new Uint8Array([2]));
      expect(moved.lastSeq).toBe(store.lastSeq);
      expect(moved.isProcessed("https://example.test/activities/300")).toBe(true);
      expect(moved.apply(messageUnit(301)).events[0]?.seq).toBe(301);
    } finally {
      moved.close();
    }
    // The old key does not open the new copy; the new one does.
    await expectStorageError(
      () => openStore({ path: `${tmp.dir}/new.db`, key: { passphrase: "old machine" } }),
      "wrong_key",
    );
    (await openStore({ path: `${tmp.dir}/new.db`, key: { keyFile } })).close();
  });

  it("refuses a wrong passphrase, a changed byte, a cut file, and an existing target", async () => {
    const into = (name: string) => ({
      from: exported,
      passphrase: "export passphrase",
      path: `${tmp.dir}/${name}`,
      key: { passphrase: "x" },
      argon2id: fast,
    });
    await expectStorageError(() => importStore({ ...into("a.db"), passphrase: "guess" }), "wrong_key");

    const bytes = readFileSync(exported);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 100] = (flipped[bytes.length - 100] as number) ^ 1;
    writeFileSync(`${tmp.dir}/flipped.export`, flipped);
    await expectStorageError(
      () => importStore({ ...into("b.db"), from: `${tmp.dir}/flipped.export` }),
      "tampered",
    );

    writeFileSync(`${tmp.dir}/cut.export`, bytes);
    truncateSync(`${tmp.dir}/cut.export`, bytes.length - 1);
    await expectStorageError(
      () => importStore({ ...into("c.db"), from: `${tmp.dir}/cut.export` }),
      "corrupt",
    );

    await expectStorageError(() => importStore({ ...into("old.db") }), "exists");
    await expectStorageError(() => store.exportTo(exported, "again", fast), "exists");
    // Nothing half-imported, and no snapshot, is left behind.
    expect(readdirSync(tmp.dir).sort()).toEqual(
      ["cut.export", "flipped.export", "old.db", "old.db-wal", "store.export"].sort(),
    );
  });
});
