import { describe, expect, it } from "vitest";
import { stripTermPrefix } from "./context.js";
import { normalizeTerms } from "./json.js";

describe("normalizeTerms", () => {
  it("hands back an object with only bare terms as it is", () => {
    const object = { type: "Create", "@context": "https://www.w3.org/ns/activitystreams", to: ["a"] };
    expect(normalizeTerms(object)).toBe(object);
  });

  it("renames compact and expanded prefixes, the bare spelling winning", () => {
    const object = {
      "mls:content": "x",
      "https://www.w3.org/ns/activitystreams#to": ["a"],
      "as:cc": "b",
      cc: "c",
      "toot:emoji": 1,
    };
    const normalized = normalizeTerms(object);
    expect(normalized).not.toBe(object);
    expect(normalized).toEqual({ content: "x", to: ["a"], cc: "c", "toot:emoji": 1 });
  });
});

describe("stripTermPrefix", () => {
  it("strips the MLS and ActivityStreams prefixes only", () => {
    expect(stripTermPrefix("mls:PrivateMessage")).toBe("PrivateMessage");
    expect(stripTermPrefix("https://purl.archive.org/socialweb/mls#Welcome")).toBe("Welcome");
    expect(stripTermPrefix("as:Public")).toBe("Public");
    expect(stripTermPrefix("Note")).toBe("Note");
    expect(stripTermPrefix("toot:Emoji")).toBe("toot:Emoji");
  });
});
