import { createSecretKey, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FieldCipher } from "./cipher.js";
import { StorageError } from "./errors.js";
import { SEALED_COLUMNS } from "./sealed-columns.js";

const cipher = new FieldCipher(createSecretKey(randomBytes(32)));
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 8 }),
);
/** A sealed column of a real table, and a row for it: its key and bound columns with random values. */
const place = fc
  .constantFrom(...SEALED_COLUMNS.flatMap((t) => t.columns.map((column) => ({ spec: t, column }))))
  .chain(({ spec, column }) =>
    fc
      .tuple(fc.string(), fc.array(value, { minLength: spec.bound.length, maxLength: spec.bound.length }))
      .map(([key, values]) => ({
        table: spec.table,
        column,
        row: Object.fromEntries([[spec.key, key], ...spec.bound.map((name, i) => [name, values[i]])]),
      })),
  );
const row = { name: "r" };

describe("FieldCipher", () => {
  it("opens what it sealed, for any value and any table/column/row", () => {
    fc.assert(
      fc.property(place, fc.uint8Array({ maxLength: 3000 }), ({ table, column, row }, plain) => {
        expect(cipher.open(table, column, row, cipher.seal(table, column, row, plain))).toEqual(plain);
      }),
    );
  });

  it("never opens a value under another table, column, row key or bound column value", () => {
    fc.assert(
      fc.property(place, place, fc.uint8Array({ maxLength: 100 }), (a, b, plain) => {
        const same = (x: typeof a) =>
          JSON.stringify([x.table, x.column, x.row], (_k, v) => (v instanceof Uint8Array ? [...v] : v));
        fc.pre(same(a) !== same(b));
        const sealed = cipher.seal(a.table, a.column, a.row, plain);
        expect(() => cipher.open(b.table, b.column, b.row, sealed)).toThrow(StorageError);
      }),
    );
  });

  it("never opens a value whose row had one bound column changed", () => {
    fc.assert(
      fc.property(place, value, fc.nat(), fc.uint8Array({ maxLength: 100 }), (a, other, pick, plain) => {
        const spec = SEALED_COLUMNS.find((t) => t.table === a.table);
        const bound = spec?.bound ?? [];
        fc.pre(bound.length > 0);
        const name = bound[pick % bound.length] as string;
        fc.pre(JSON.stringify(a.row[name]) !== JSON.stringify(other));
        const sealed = cipher.seal(a.table, a.column, a.row, plain);
        expect(() => cipher.open(a.table, a.column, { ...a.row, [name]: other }, sealed)).toThrow(
          StorageError,
        );
      }),
    );
  });

  it("refuses any single flipped bit", () => {
    const sealed = cipher.seal("settings", "value", row, new TextEncoder().encode("a secret"));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), (bit) => {
        const changed = Uint8Array.from(sealed);
        changed[bit >> 3] = (changed[bit >> 3] as number) ^ (1 << (bit & 7));
        const error = (() => {
          try {
            cipher.open("settings", "value", row, changed);
          } catch (e) {
            return e;
          }
        })();
        expect((error as StorageError).code).toBe("tampered");
      }),
    );
  });

  it("uses a fresh nonce for every value", () => {
    const zeros = new Uint8Array(16);
    const nonces = new Set(
      Array.from({ length: 2000 }, () =>
        Buffer.from(cipher.seal("settings", "value", row, zeros).subarray(1, 13)).toString("hex"),
      ),
    );
    expect(nonces.size).toBe(2000);
  });
});
