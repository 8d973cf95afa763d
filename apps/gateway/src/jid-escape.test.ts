import { describe, expect, it } from "vitest";
import { escapeLocalpart, unescapeLocalpart } from "./jid-escape.js";

describe("XEP-0106 escaping", () => {
  it("matches the XEP's examples", () => {
    expect(escapeLocalpart("space cadet")).toBe("space\\20cadet");
    expect(escapeLocalpart('call me "ishmael"')).toBe("call\\20me\\20\\22ishmael\\22");
    expect(escapeLocalpart("at&t guy")).toBe("at\\26t\\20guy");
    expect(escapeLocalpart("d'artagnan")).toBe("d\\27artagnan");
    expect(escapeLocalpart("/.fanboy")).toBe("\\2f.fanboy");
    expect(escapeLocalpart("::foo::")).toBe("\\3a\\3afoo\\3a\\3a");
    expect(escapeLocalpart("<foo>")).toBe("\\3cfoo\\3e");
    expect(escapeLocalpart("user@host")).toBe("user\\40host");
    expect(escapeLocalpart("c:\\net")).toBe("c\\3a\\net");
    expect(escapeLocalpart("c:\\\\net")).toBe("c\\3a\\\\net");
    expect(escapeLocalpart("c:\\cool stuff")).toBe("c\\3a\\cool\\20stuff");
    expect(escapeLocalpart("c:\\5commas")).toBe("c\\3a\\5c5commas");
  });

  it("is reversible, including backslashes that look like escapes", () => {
    for (const raw of [
      "bob@social.example",
      "bob@127.0.0.1:8080",
      "a\\40b@c",
      "x\\5cy",
      "\\",
      "o'neil@e.example",
      "ünï@çødé",
    ]) {
      const escaped = escapeLocalpart(raw);
      expect(escaped).not.toMatch(/[ "&'/:<>@]/);
      expect(unescapeLocalpart(escaped)).toBe(raw);
    }
  });
});
