// The corpus through @sotto/core's reader: each fixture reads as its `core` expectation says, and whatever
// reads is written back in a form that reads the same.
import { readApplicationData, writeApplicationData } from "@sotto/core";
import { describe, expect, it } from "vitest";
import { instantiate, loadFixtures } from "./fixtures.js";

const bindings = {
  sender: "https://emissary.example/users/emma",
  recipient: "https://sotto.example/users/bob",
  group: "uri:uuid:0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9",
};
const fixtures = loadFixtures();

describe("the interop corpus through @sotto/core", () => {
  it("covers the spec's application-data examples and both peers", () => {
    expect(new Set(fixtures.map((f) => f.file))).toEqual(new Set(["bonfire", "emissary", "limits", "spec"]));
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
  });

  it.each(fixtures.map((f) => [`${f.file}: ${f.name}`, f] as const))("%s", (_, fixture) => {
    const { data, core } = instantiate(fixture, bindings);
    for (const earlier of instantiate(fixture, bindings).before ?? []) {
      expect(readApplicationData(earlier).ok).toBe(true);
    }
    const read = readApplicationData(data);
    if ("error" in core) {
      expect(read.ok ? "read" : read.error.code).toBe(core.error);
      return;
    }
    if (!read.ok) throw new Error(`refused: ${read.error.code} ${read.error.message}`);
    if ("unsupported" in core) {
      expect(read.value.type).toBe("unsupported");
      return;
    }
    expect(read.value.type).toBe(core.type);
    if (read.value.type === "unsupported") return;
    const again = readApplicationData(writeApplicationData(read.value));
    expect(again.ok && again.value).toEqual(read.value);
  });
});
