import { describe, expect, it } from "vitest";
import { CONTACT_FEATURES, capsVer } from "./disco.js";
import { NS } from "./namespaces.js";

describe("entity capabilities", () => {
  it("computes the XEP-0115 simple example's verification string", () => {
    const features = ["http://jabber.org/protocol/caps", NS.discoInfo, NS.discoItems, NS.muc];
    expect(capsVer({ category: "client", type: "pc", name: "Exodus 0.9.1" }, features)).toBe(
      "QgayPKawpkPSDYmwT/WM94uAlu0=",
    );
  });

  it("advertises every mapped XEP on actor JIDs", () => {
    for (const ns of [NS.receipts, NS.markers, NS.correction, NS.retraction, NS.reactions])
      expect(CONTACT_FEATURES).toContain(ns);
  });
});
