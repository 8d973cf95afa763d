import { createSecretKey, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FieldCipher } from "./cipher.js";
import { StorageError } from "./errors.js";

const cipher = new FieldCipher(createSecretKey(randomBytes(32)));
const name = fc.string({ minLength: 1, maxLength: 12 });

describe("FieldCipher", () => {
  it("opens what it sealed, for any value and any table/column/row", () => {
    fc.assert(
      fc.property(
        name,
        name,
        fc.string(),
        fc.uint8Array({ maxLength: 3000 }),
        (table, column, row, value) => {
          expect(cipher.open(table, column, row, cipher.seal(table, column, row, value))).toEqual(value);
        },
      ),
    );
  });

  it("never opens a value under another table, column or row", () => {
    fc.assert(
      fc.property(
        fc.tuple(name, name, fc.string()),
        fc.tuple(name, name, fc.string()),
        fc.uint8Array({ maxLength: 100 }),
        (a, b, value) => {
          fc.pre(a.join("\0") !== b.join("\0"));
          const sealed = cipher.seal(a[0], a[1], a[2], value);
          expect(() => cipher.open(b[0], b[1], b[2], sealed)).toThrow(StorageError);
        },
      ),
    );
  });

  it("refuses any single flipped bit", () => {
    const sealed = cipher.seal("t", "c", "r", new TextEncoder().encode("a secret"));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), (bit) => {
        const changed = Uint8Array.from(sealed);
        changed[bit >> 3] = (changed[bit >> 3] as number) ^ (1 << (bit & 7));
        const error = (() => {
          try {
            cipher.open("t", "c", "r", changed);
          } catch (e) {
            return e;
          }
        })();
        expect((error as StorageError).code).toBe("tampered");
      }),
    );
  });

  it("uses a fresh nonce for every value", () => {
    const value = new Uint8Array(16);
    const nonces = new Set(
      Array.from({ length: 2000 }, () =>
        Buffer.from(cipher.seal("t", "c", "r", value).subarray(1, 13)).toString("hex"),
      ),
    );
    expect(nonces.size).toBe(2000);
  });
});
