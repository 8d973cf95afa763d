import { generateDeviceIdentity, generateKeyPackages } from "@sotto/core";
import { decode, encode, keyPackageEncoder, mlsMessageDecoder } from "ts-mls-rc";
import { describe, expect, it } from "vitest";
import { readKeyPackageContent } from "./emissary.js";

describe("the Emissary peer's KeyPackage reader", () => {
  it("reads the raw KeyPackages whose bytes make ts-mls 2.0 throw when read as an MLSMessage", async () => {
    const device = await generateDeviceIdentity("https://sotto.example/users/bob");
    // About one in 300 does; 3,000 make missing one as likely as 1 in 10^4. Bounded by count.
    let throwing: Uint8Array | undefined;
    for (let batch = 0; batch < 30 && throwing === undefined; batch++) {
      const own = await generateKeyPackages(device, { count: 100, time: new Date() });
      throwing = own
        .map((k) => k.keyPackage)
        .find((bytes) => {
          try {
            decode(mlsMessageDecoder, bytes);
            return false;
          } catch {
            return true;
          }
        });
    }
    expect(throwing).toBeDefined();
    const read = readKeyPackageContent(throwing as Uint8Array);
    expect(read && Buffer.from(encode(keyPackageEncoder, read))).toEqual(Buffer.from(throwing as Uint8Array));
  }, 300_000);
});
