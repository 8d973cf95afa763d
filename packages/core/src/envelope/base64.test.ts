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
});
