import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "./store.js";
import { FAST_ARGON2ID, tempDir } from "./test-support.js";

/** Every file of the store (database, WAL, journal) and the offsets where `needle` occurs. */
function occurrences(dir: string, needle: Uint8Array): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir)) {
    const bytes = readFileSync(`${dir}/${name}`);
    if (bytes.indexOf(needle) >= 0) hits.push(name);
  }
  return hits;
}

describe("encryption at rest", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  const plaintexts = Array.from(
    { length: 50 },
    (_, i) => `SECRET-PLAINTEXT-${i}-${randomBytes(8).toString("hex")}`,
  );
  const signatureKey = randomBytes(32);
  const initKey = randomBytes(32);
  const groupState = Buffer.concat([Buffer.from("MLS-GROUP-STATE"), randomBytes(2048)]);

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({
      path: `${tmp.dir}/account.db`,
      key: { passphrase: "pw" },
      argon2id: FAST_ARGON2ID,
    });
    store.apply({
      deviceKeys: [{ id: "signature", publicKey: randomBytes(32), privateKey: signatureKey, createdAt: 1 }],
      keyPackages: [{ ref: "kp", keyPackage: randomBytes(100), privateKey: initKey, createdAt: 1 }],
      contacts: [
        { actor: "https://x.test/u/bob", name: plaintexts[0], devices: [], verification: "unverified" },
      ],
      settings: { note: plaintexts[1] as string },
    });
    plaintexts.slice(2).forEach((text, i) => {
      store.apply({
        activityId: `https://x.test/activities/${i}`,
        groups: [{ id: "g", epoch: i, state: groupState, members: ["https://x.test/u/bob"] }],
        messages: [
          {
            id: `m${i}`,
            conversation: "g",
            author: "https://x.test/u/bob",
            at: i,
            direction: "in",
            state: "received",
            body: { text },
          },
        ],
        outbox: [{ op: "enqueue", id: `o${i}`, payload: { content: text } }],
        events: [{ type: "message.received", data: { preview: text } }],
      });
    });
    store.apply({
      messageChanges: [
        { id: "e1", messageId: "m3", kind: "edit", actor: "bob", at: 9, data: { text: "edited!" } },
      ],
    });
  });

  afterEach(() => {
    store.close();
    tmp.remove();
  });

  function secrets(): Uint8Array[] {
    return [
      ...plaintexts.map((t) => Buffer.from(t)),
      Buffer.from("edited!"),
      signatureKey,
      initKey,
      groupState.subarray(0, 64),
      groupState.subarray(1000, 1064),
    ];
  }

  it("finds no plaintext or private-key bytes in the database or its WAL, open or closed", () => {
    // While open, recent units are still in the WAL.
    expect(existsSync(`${tmp.dir}/account.db-wal`)).toBe(true);
    for (const secret of secrets()) expect(occurrences(tmp.dir, secret)).toEqual([]);
    store.close();
    for (const secret of secrets()) expect(occurrences(tmp.dir, secret)).toEqual([]);
  });

  it("keeps the database and its WAL private to the owner (mode 0600)", () => {
    expect(statSync(`${tmp.dir}/account.db`).mode & 0o777).toBe(0o600);
    expect(statSync(`${tmp.dir}/account.db-wal`).mode & 0o777).toBe(0o600);
  });

  it("the scan would find them if they were there (control)", () => {
    // Ids, types and states are kept clear (for indexes): the scanner does see them.
    expect(occurrences(tmp.dir, Buffer.from("https://x.test/u/bob")).length).toBeGreaterThan(0);
    expect(occurrences(tmp.dir, Buffer.from("message.received")).length).toBeGreaterThan(0);
    expect(occurrences(tmp.dir, Buffer.from("m42")).length).toBeGreaterThan(0);
  });
});
