import { chmodSync, copyFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ARGON2ID } from "./key.js";
import { openStore } from "./store.js";
import { expectStorageError, FAST_ARGON2ID, messageUnit, tempDir, writeKeyFile } from "./test-support.js";

describe("store keys", () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;

  beforeEach(() => {
    tmp = tempDir();
    path = `${tmp.dir}/account.db`;
  });

  afterEach(() => {
    delete process.env.CREDENTIALS_DIRECTORY;
    tmp.remove();
  });

  it("refuses a wrong passphrase, and a key file for a passphrase store", async () => {
    const store = await openStore({ path, key: { passphrase: "right" }, argon2id: FAST_ARGON2ID });
    store.apply(messageUnit(1));
    store.close();
    await expectStorageError(() => openStore({ path, key: { passphrase: "wrong" } }), "wrong_key");
    await expectStorageError(() => openStore({ path, key: { passphrase: "" } }), "key_missing");
    await expectStorageError(
      () => openStore({ path, key: { keyFile: writeKeyFile(`${tmp.dir}/k`) } }),
      "wrong_key",
    );
    const reopened = await openStore({ path, key: { passphrase: "right" } });
    expect(reopened.message("https://example.test/messages/1")?.body).toEqual({ text: "message number 1" });
    reopened.close();
  });

  it("changes the passphrase by re-wrapping the data key (default Argon2id cost), data untouched", async () => {
    const store = await openStore({ path, key: { passphrase: "old" } });
    store.apply(messageUnit(1));
    await store.changeKey({ passphrase: "new" }, DEFAULT_ARGON2ID);
    store.close();
    await expectStorageError(() => openStore({ path, key: { passphrase: "old" } }), "wrong_key");
    const reopened = await openStore({ path, key: { passphrase: "new" } });
    expect(reopened.message("https://example.test/messages/1")?.body).toEqual({ text: "message number 1" });
    reopened.close();
  });

  it("opens with a 0600 key file and refuses one readable by others", async () => {
    const keyFile = writeKeyFile(`${tmp.dir}/key`);
    const store = await openStore({ path, key: { keyFile } });
    store.apply(messageUnit(1));
    store.close();
    chmodSync(keyFile, 0o644);
    const error = await expectStorageError(
      () => openStore({ path, key: { keyFile } }),
      "key_file_permissions",
    );
    expect(error.message).toMatch(/chmod 600/);
    chmodSync(keyFile, 0o400);
    (await openStore({ path, key: { keyFile } })).close();
    await expectStorageError(
      () => openStore({ path, key: { keyFile: `${tmp.dir}/missing` } }),
      "key_missing",
    );
    await expectStorageError(
      () => openStore({ path, key: { keyFile: writeKeyFile(`${tmp.dir}/other`) } }),
      "wrong_key",
    );
  });

  it("reads a systemd credential from $CREDENTIALS_DIRECTORY (same bytes as the key file)", async () => {
    const keyFile = writeKeyFile(`${tmp.dir}/key`);
    (await openStore({ path, key: { keyFile } })).close();
    await expectStorageError(() => openStore({ path, key: { credential: "sotto.key" } }), "key_missing");
    process.env.CREDENTIALS_DIRECTORY = tmp.dir;
    copyFileSync(keyFile, `${tmp.dir}/sotto.key`);
    const store = await openStore({ path, key: { credential: "sotto.key" } });
    expect(store.lastSeq).toBe(0);
    store.close();
    await expectStorageError(() => openStore({ path, key: { credential: "../key" } }), "key_missing");
  });

  it("switches a store from a passphrase to a key file", async () => {
    const store = await openStore({ path, key: { passphrase: "pw" }, argon2id: FAST_ARGON2ID });
    store.apply(messageUnit(1));
    const keyFile = writeKeyFile(`${tmp.dir}/key`);
    await store.changeKey({ keyFile });
    store.close();
    await expectStorageError(() => openStore({ path, key: { passphrase: "pw" } }), "wrong_key");
    const reopened = await openStore({ path, key: { keyFile } });
    expect(reopened.isProcessed("https://example.test/activities/1")).toBe(true);
    reopened.close();
  });
});
