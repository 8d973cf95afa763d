import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64 } from "./base64.js";

describe("decodeBase64", () => {
  const bytes = (text: string) => Array.from(decodeBase64(text) ?? [-1]);

  it("decodes padded, unpadded, wrapped and URL-safe base64 alike", () => {
    for (const text of ["+/+/", "AAEC", "AAE=", "AA==", "AAE", "AA", "AA\nEC", " AA EC ", "-_-_"]) {
      expect(bytes(text), text).toEqual(Array.from(Buffer.from(text.replace(/\s/g, ""), "base64url")));
    }
  });

  it("refuses what is not base64 rather than skip it", () => {
    for (const text of ["A", "A===", "====", "AA=A", "AA==AA==", "AAE=\n=", "AA*C", "AAEC="]) {
      expect(decodeBase64(text), text).toBeUndefined();
    }
  });

  it("decides as the strict reading does for any text over base64's alphabet and its neighbours", () => {
    // The reference: one regular expression for the whole text, then Buffer's decoder.
    const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
    const strict = (text: string) => {
      const compact = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
      return STRICT.test(compact) ? Array.from(Buffer.from(compact, "base64")) : undefined;
    };
    const alphabet = ["A", "g", "z", "0", "+", "/", "-", "_", "=", " ", "\n", "*", "\u00e9", "\u0100"];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 16 }), (text) => {
        const read = decodeBase64(text);
        expect(read === undefined ? undefined : Array.from(read), JSON.stringify(text)).toEqual(strict(text));
      }),
      { numRuns: 20_000 },
    );
  });
});
