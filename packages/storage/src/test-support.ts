import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { StorageError, type StorageErrorCode } from "./errors.js";
import type { Argon2idParams } from "./key.js";
import type { MessageRecord, Unit } from "./records.js";

/** Cheap Argon2id for tests that are not about the KDF (the default costs ~140 ms per open). */
export const FAST_ARGON2ID: Argon2idParams = { memory: 8192, passes: 1, parallelism: 1 };

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sotto-storage-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts that `fn` fails with a StorageError of this code (not just that it throws). */
export async function expectStorageError(fn: () => unknown, code: StorageErrorCode): Promise<StorageError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StorageError);
  expect((caught as StorageError).code).toBe(code);
  return caught as StorageError;
}

export function messageRecord(i: number, text = `message number ${i}`): MessageRecord {
  return {
    id: `https://example.test/messages/${i}`,
    conversation: "group-1",
    author: "https://example.test/users/bob",
    at: 1_700_000_000_000 + i,
    direction: "in",
    state: "received",
    body: { text },
  };
}

/** The unit of work an incoming message makes: group state, the message, cursor, dedupe, event. */
export function messageUnit(i: number, text = `message number ${i}`): Unit {
  const id = `https://example.test/activities/${i}`;
  return {
    activityId: id,
    groups: [{ id: "group-1", epoch: 1, state: new Uint8Array(64).fill(i % 256), members: ["a", "b"] }],
    messages: [messageRecord(i, text)],
    cursor: { name: "messages", position: id },
    events: [{ type: "message.received", data: { id: `https://example.test/messages/${i}` } }],
  };
}

/** A key file of 32 random bytes, mode 0600. */
export function writeKeyFile(path: string): string {
  writeFileSync(path, randomBytes(32), { mode: 0o600 });
  return path;
}

/** A fixture script (in ../fixtures), run by the Node that runs the tests. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}
