import { describe, expect, it } from "vitest";
import { readChatStanza, writeChatStanza } from "./chat-stanza.js";
import { NS } from "./namespaces.js";
import { xml } from "./xml.js";

const newId = () => "generated";
const msg = (attrs: Record<string, string>, ...children: ReturnType<typeof xml>[]) =>
  xml(
    "message",
    { from: "alice@example.org/phone", to: "bob\\40s.example@fedi.example.org", ...attrs },
    ...children,
  );

describe("readChatStanza", () => {
  it("prefers the XEP-0359 origin-id and generates an id when there is none", () => {
    const withOrigin = readChatStanza(
      msg({ id: "a" }, xml("body", {}, "x"), xml("origin-id", { xmlns: NS.sid, id: "o" })),
      newId,
    );
    // The `id` attribute stays known as an alias: XEP-0308 corrections refer to it.
    expect(withOrigin.ok && withOrigin.value).toEqual({ type: "message", id: "o", text: "x", alias: "a" });
    const none = readChatStanza(msg({}, xml("body", {}, "x")), newId);
    expect(none.ok && none.value).toEqual({ type: "message", id: "generated", text: "x" });
  });

  it("reads XEP-0066 file links, leaving them out of the text, and writes them with their description", () => {
    const url = "https://up.example.org/a/cat.png";
    const r = readChatStanza(
      msg({ id: "f" }, xml("body", {}, `look\n${url}`), xml("x", { xmlns: NS.oob }, xml("url", {}, url))),
      newId,
    );
    expect(r.ok && r.value).toEqual({ type: "message", id: "f", text: "look", links: [{ url }] });
    const out = writeChatStanza(
      {
        type: "message",
        id: "m",
        text: "",
        links: [{ url, mediaType: "image/png", name: "cat.png", size: 2048 }],
      },
      "bob\\40s.example@fedi.example.org",
      "alice@example.org",
    );
    expect(out.getChildText("body")).toBe(url);
    expect(out.getChild("x", NS.oob)?.getChildText("desc")).toBe("cat.png (image/png, 2 KiB)");
  });

  it("reads the older fastened retraction form", () => {
    const r = readChatStanza(
      msg(
        { id: "r" },
        xml(
          "apply-to",
          { xmlns: "urn:xmpp:fasten:0", id: "m1" },
          xml("retract", { xmlns: "urn:xmpp:message-retract:0" }),
        ),
      ),
      newId,
    );
    expect(r.ok && r.value).toEqual({ type: "retraction", id: "r", retracts: "m1" });
  });

  it("ignores errors, headlines and payload-free messages; refuses groupchat and oversized bodies", () => {
    for (const type of ["error", "headline"])
      expect(readChatStanza(msg({ type }, xml("body", {}, "x")), newId)).toEqual({
        ok: true,
        value: undefined,
      });
    expect(readChatStanza(msg({ type: "chat" }, xml("active", { xmlns: NS.chatStates })), newId)).toEqual({
      ok: true,
      value: undefined,
    });
    const group = readChatStanza(msg({ type: "groupchat" }, xml("body", {}, "x")), newId);
    expect(group.ok || group.error.condition).toBe("feature-not-implemented");
    const big = readChatStanza(msg({}, xml("body", {}, "x".repeat(70_000))), newId);
    expect(big.ok || big.error.condition).toBe("bad-request");
  });

  it("reads back what writeChatStanza writes", () => {
    const chats = [
      { type: "message", id: "1", text: "hi", receipt: true }, // every message asks for a receipt
      { type: "correction", id: "2", replaces: "1", text: "hey" },
      { type: "retraction", id: "3", retracts: "1" },
      { type: "reactions", id: "4", to: "1", emojis: ["👍", "🎉"] },
      { type: "receipt", id: "5", of: "1", kind: "received" },
      { type: "receipt", id: "6", of: "1", kind: "displayed" },
    ] as const;
    for (const chat of chats) {
      const back = readChatStanza(
        writeChatStanza(chat, "bob\\40s.example@fedi.example.org", "alice@example.org"),
        newId,
      );
      expect(back).toEqual({ ok: true, value: chat });
    }
  });
});
