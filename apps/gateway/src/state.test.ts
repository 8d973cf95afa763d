import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GatewayState } from "./state.js";

const dir = mkdtempSync(join(tmpdir(), "sotto-gw-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("GatewayState", () => {
  it("keeps id pairs, notices, actors and cursors across a reopen", () => {
    const path = join(dir, "state.sqlite");
    const a = new GatewayState(path);
    a.remember("c1", { xmppId: "x1", messageId: "urn:uuid:n1", author: "xmpp" });
    a.remember("c1", { xmppId: "x1", messageId: "urn:uuid:other", author: "xmpp" }); // the first one stays
    a.remember("c1", { xmppId: "x2", messageId: "urn:uuid:n2", author: "xmpp" }, "stanza-2");
    expect(a.firstTime("c1")).toBe(true);
    expect(a.firstTime("c1")).toBe(false);
    a.setActor({ handle: "bob@s.example", actorId: "https://s.example/users/bob", name: "Bob" });
    a.setCursor("alice", "42");
    a.awaitReceipt("c1", "urn:uuid:n2", "stanza-2");
    a.close();

    const b = new GatewayState(path);
    expect(b.byXmppId("c1", "x1")).toEqual({ xmppId: "x1", messageId: "urn:uuid:n1", author: "xmpp" });
    expect(b.byMessageId("c1", "urn:uuid:n1")?.xmppId).toBe("x1");
    expect(b.byXmppId("c2", "x1")).toBeUndefined();
    expect(b.byXmppId("c1", "stanza-2")).toEqual({ xmppId: "x2", messageId: "urn:uuid:n2", author: "xmpp" });
    expect(b.byXmppId("c2", "stanza-2")).toBeUndefined();
    expect(b.firstTime("c1")).toBe(false);
    expect(b.actorById("https://s.example/users/bob")).toEqual({
      handle: "bob@s.example",
      actorId: "https://s.example/users/bob",
      name: "Bob",
    });
    expect(b.cursor("alice")).toBe("42");
    expect(b.takeReceipt("c1", "urn:uuid:n2")).toBe("stanza-2");
    expect(b.takeReceipt("c1", "urn:uuid:n2")).toBeUndefined(); // answered once
    b.setCursor("alice", "43");
    expect(b.cursor("alice")).toBe("43");
    b.close();
  });
});
