// The XMPP face against a real Prosody: users on @xmpp/client, the gateway as a XEP-0114 component.
import { randomUUID } from "node:crypto";
import { err, ok } from "@sotto/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BareJid, formatBareJid, jidForHandle } from "../addressing.js";
import type { Chat } from "../chat.js";
import { StanzaError } from "../errors.js";
import type { Log } from "../log.js";
import { type Prosody, startProsody } from "../testing/prosody.js";
import { waitFor } from "../testing/wait.js";
import { connectUser, type XmppUser } from "../testing/xmpp-user.js";
import { capsVer } from "./disco.js";
import { roomLocalpart } from "./muc.js";
import { NS } from "./namespaces.js";
import { type Element, xml } from "./xml.js";
import { XmppSide } from "./xmpp-side.js";

const BOB = "bob@social.example";
const logs: { level: string; event: string }[] = [];
const log: Log = (level, event) => logs.push({ level, event });

describe("XMPP side on a real Prosody", () => {
  let prosody: Prosody;
  let side: XmppSide;
  let alice: XmppUser;
  let bobJid: string;
  const chats: { user: string; handle: string; chat: Chat }[] = [];
  const roomChats: { room: string; chat: Chat }[] = [];
  let room = "";
  const users: XmppUser[] = [];

  const connect = async (username: string, domain: string) => {
    const u = await connectUser({
      service: prosody.c2sService,
      domain,
      username,
      password: `pw-${username}`,
    });
    users.push(u);
    return u;
  };
  const errorOf = (s: Element) => s.getChild("error")?.getChildElements()[0]?.name;
  const fromBob = (s: Element) => s.attrs.from?.split("/")[0] === bobJid;

  beforeAll(async () => {
    prosody = await startProsody({ extraHosts: ["elsewhere.localhost"] });
    prosody.register("alice", "pw-alice");
    prosody.register("mallory", "pw-mallory", "elsewhere.localhost");
    side = new XmppSide({
      service: prosody.componentService,
      domain: prosody.componentDomain,
      secret: prosody.componentSecret,
      allowedDomains: [prosody.host],
      log,
      newId: () => `urn:uuid:${randomUUID()}`,
    });
    await side.start({
      async chat(user, handle, chat) {
        if (chat.type === "message" && chat.text === "fail please") {
          return err(
            new StanzaError("unknown_recipient", "the Fediverse side said no", "remote-server-not-found"),
          );
        }
        chats.push({ user: formatBareJid(user), handle, chat });
        return ok(undefined);
      },
      async joinRoom(user, local) {
        if (local !== room || user.local !== "alice")
          return err(new StanzaError("unknown_recipient", "no such room", "item-not-found"));
        return ok({
          title: "Weekend plans",
          occupants: [BOB, "carol@other.example"],
          history: [
            {
              id: "h1",
              stanzaId: "urn:uuid:h1",
              nick: BOB,
              text: "who is in?",
              published: "2026-11-22T04:00:00.000Z",
            },
            { id: "h2", stanzaId: "urn:uuid:h2", text: "me!", published: "2026-11-22T04:01:00.000Z" },
          ],
        });
      },
      async roomChat(_user, local, chat) {
        roomChats.push({ room: local, chat });
        return ok(chat.type === "message" ? { stanzaId: `urn:uuid:note-${chat.id}` } : {});
      },
      async contact(_user, handle) {
        return handle === BOB
          ? ok({ name: "Bob" })
          : err(new StanzaError("unknown_recipient", "no such actor", "item-not-found"));
      },
    });
    await side.link.waitOnline();
    bobJid = jidForHandle(BOB, prosody.componentDomain);
    room = roomLocalpart({ local: "alice", domain: prosody.host }, "urn:uuid:g1");
    alice = await connect("alice", prosody.host);
  });

  afterAll(async () => {
    for (const u of users) await u.stop();
    await side?.stop();
    await prosody?.stop();
  });

  const lastChat = async (n: number) => {
    for (let i = 0; i < 500 && chats.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    expect(chats.length).toBe(n);
    return chats[n - 1];
  };

  it("answers disco#info for the service and for an actor JID", async () => {
    const service = await alice.iq(
      xml("iq", { type: "get", to: prosody.componentDomain }, xml("query", { xmlns: NS.discoInfo })),
    );
    const features = service
      .getChild("query")
      ?.getChildren("feature")
      .map((f) => f.attrs.var);
    expect(service.getChild("query")?.getChild("identity")?.attrs.category).toBe("gateway");
    expect(features).toEqual(
      expect.arrayContaining([NS.reactions, NS.correction, NS.retraction, NS.receipts, NS.markers]),
    );
    const contact = await alice.iq(
      xml("iq", { type: "get", to: bobJid }, xml("query", { xmlns: NS.discoInfo })),
    );
    expect(
      contact
        .getChild("query")
        ?.getChildren("feature")
        .map((f) => f.attrs.var),
    ).toContain(NS.reactions);
  });

  it("accepts a presence subscription like a contact and shows it available", async () => {
    await alice.send(xml("presence", { type: "subscribe", to: bobJid }));
    const subscribed = await alice.next(
      (s) => s.is("presence") && s.attrs.type === "subscribed" && fromBob(s),
    );
    expect(subscribed.attrs.to?.split("/")[0]).toBe(alice.bare);
    const available = await alice.next((s) => s.is("presence") && !s.attrs.type && fromBob(s));
    expect(available.getChildText("nick", NS.nick)).toBe("Bob");
  });

  it("answers disco#info on the caps node#ver of a contact's and of the service's presence (XEP-0115)", async () => {
    const query = (to: string, node?: string) =>
      alice.iq(xml("iq", { type: "get", to }, xml("query", { xmlns: NS.discoInfo, node })));
    for (const from of [bobJid, prosody.componentDomain]) {
      await alice.send(xml("presence", { type: "subscribe", to: from }));
      const presence = await waitFor("a presence with caps", () =>
        alice.received.find((s) => s.is("presence") && s.attrs.from === from && s.getChild("c", NS.caps)),
      );
      const c = presence.getChild("c", NS.caps);
      const answer = (await query(from, `${c?.attrs.node}#${c?.attrs.ver}`)).getChild("query");
      expect(answer?.attrs.node).toBe(`${c?.attrs.node}#${c?.attrs.ver}`);
      // What a client does with it: the features hash to the advertised ver, and they are the entity's own.
      const identity = answer?.getChild("identity")?.attrs;
      const features = answer?.getChildren("feature").map((f) => String(f.attrs.var)) ?? [];
      const { category = "", type = "", name = "" } = identity ?? {};
      expect(capsVer({ category, type, name }, features)).toBe(c?.attrs.ver);
      const own = (await query(from))
        .getChild("query")
        ?.getChildren("feature")
        .map((f) => f.attrs.var);
      expect(features).toEqual(own);
      expect(features).toContain(NS.caps);
      await expect(query(from, `${c?.attrs.node}#not-the-ver`)).rejects.toMatchObject({
        condition: "item-not-found",
      });
    }
  });

  it("answers what its disco#info lists: ping on the service and a contact, version and items on the service", async () => {
    const ids: string[] = [];
    const iq = (to: string, child: Element) => {
      ids.push(`q${ids.length}`);
      return alice.iq(xml("iq", { type: "get", to, id: ids.at(-1) }, child));
    };
    for (const to of [prosody.componentDomain, bobJid]) {
      expect((await iq(to, xml("ping", { xmlns: NS.ping }))).attrs.type).toBe("result");
      await iq(to, xml("query", { xmlns: NS.discoInfo }));
    }
    const version = await iq(prosody.componentDomain, xml("query", { xmlns: NS.version }));
    expect(version.getChild("query")?.getChildText("name")).toBe("sotto-xmpp");
    const items = await iq(prosody.componentDomain, xml("query", { xmlns: NS.discoItems }));
    expect(items.getChild("query", NS.discoItems)?.getChildren("item")).toEqual([]);
    // One answer each: a second one (an error from xmpp.js' own iq handler, which answers at once) would have
    // come before the last ping was even read.
    await iq(bobJid, xml("ping", { xmlns: NS.ping }));
    const answers = alice.received.filter((s) => s.is("iq") && ids.includes(s.attrs.id ?? ""));
    expect(answers.map((a) => `${a.attrs.id} ${a.attrs.type}`)).toEqual(ids.map((id) => `${id} result`));
  });

  it("refuses a subscription to an unknown actor", async () => {
    const nobody = jidForHandle("nobody@social.example", prosody.componentDomain);
    await alice.send(xml("presence", { type: "subscribe", to: nobody }));
    const answer = await alice.next(
      (s) => s.is("presence") && s.attrs.from?.split("/")[0] === nobody && s.attrs.type === "unsubscribed",
    );
    expect(answer.attrs.type).toBe("unsubscribed");
  });

  it("hands every kind of chat to the bridge, in order", async () => {
    const send = (id: string, ...children: Element[]) =>
      alice.send(xml("message", { type: "chat", to: bobJid, id }, ...children));
    await send("m1", xml("body", {}, "hello <bob> & co"));
    await send("m2", xml("body", {}, "hello bob"), xml("replace", { xmlns: NS.correction, id: "m1" }));
    await send(
      "m3",
      xml(
        "reactions",
        { xmlns: NS.reactions, id: "b1" },
        xml("reaction", {}, "👍"),
        xml("reaction", {}, "🎉"),
      ),
    );
    await send("m4", xml("received", { xmlns: NS.receipts, id: "b1" }));
    await send("m5", xml("displayed", { xmlns: NS.markers, id: "b1" }));
    await send("m6", xml("retract", { xmlns: NS.retraction, id: "m1" }), xml("body", {}, "fallback"));
    await send("m7", xml("composing", { xmlns: NS.chatStates }));
    await send("m8", xml("body", {}, "after the chat state"));
    await lastChat(7);
    expect(chats.map((c) => c.chat)).toEqual([
      { type: "message", id: "m1", text: "hello <bob> & co" },
      { type: "correction", id: "m2", replaces: "m1", text: "hello bob" },
      { type: "reactions", id: "m3", to: "b1", emojis: ["👍", "🎉"] },
      { type: "receipt", id: "m4", of: "b1", kind: "received" },
      { type: "receipt", id: "m5", of: "b1", kind: "displayed" },
      { type: "retraction", id: "m6", retracts: "m1" },
      { type: "message", id: "m8", text: "after the chat state" },
    ]);
    expect(new Set(chats.map((c) => `${c.user} ${c.handle}`))).toEqual(new Set([`${alice.bare} ${BOB}`]));
  });

  it("shows Fediverse chats to the XMPP user with the XEPs' elements", async () => {
    const user: BareJid = { local: "alice", domain: prosody.host };
    side.deliver(user, BOB, { type: "message", id: "b1", text: "hi alice" });
    side.deliver(user, BOB, { type: "correction", id: "b2", replaces: "b1", text: "hi Alice" });
    side.deliver(user, BOB, { type: "reactions", id: "b3", to: "m8", emojis: ["❤️"] });
    side.deliver(user, BOB, { type: "receipt", id: "b4", of: "m8", kind: "received" });
    side.deliver(user, BOB, { type: "receipt", id: "b5", of: "m8", kind: "displayed" });
    side.deliver(user, BOB, { type: "retraction", id: "b6", retracts: "b1" });
    const byId = async (id: string) => alice.next((s) => s.is("message") && s.attrs.id === id && fromBob(s));
    const m = await byId("b1");
    expect(m.getChildText("body")).toBe("hi alice");
    expect(m.getChild("request", NS.receipts)).toBeDefined();
    expect((await byId("b2")).getChild("replace", NS.correction)?.attrs.id).toBe("b1");
    expect((await byId("b3")).getChild("reactions", NS.reactions)?.getChildText("reaction")).toBe("❤️");
    expect((await byId("b4")).getChild("received", NS.receipts)?.attrs.id).toBe("m8");
    expect((await byId("b5")).getChild("displayed", NS.markers)?.attrs.id).toBe("m8");
    expect((await byId("b6")).getChild("retract", NS.retraction)?.attrs.id).toBe("b1");
  });

  it("answers bad input with XMPP errors and keeps running", async () => {
    const before = chats.length;
    const bad = async (id: string, to: string, attrs: Record<string, string>, ...children: Element[]) => {
      await alice.send(xml("message", { type: "chat", to, id, ...attrs }, ...children));
      return errorOf(
        await alice.next((s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === id),
      );
    };
    expect(await bad("e1", bobJid, { type: "groupchat" }, xml("body", {}, "group?"))).toBe(
      "feature-not-implemented",
    );
    expect(await bad("e2", bobJid, {}, xml("body", {}, "x"), xml("replace", { xmlns: NS.correction }))).toBe(
      "bad-request",
    );
    expect(await bad("e3", `bob@${prosody.componentDomain}`, {}, xml("body", {}, "no handle"))).toBe(
      "item-not-found",
    );
    expect(await bad("e4", prosody.componentDomain, {}, xml("body", {}, "to the service"))).toBe(
      "service-unavailable",
    );
    expect(await bad("e5", bobJid, {}, xml("body", {}, "fail please"))).toBe("remote-server-not-found");
    expect(
      await bad("e6", bobJid, {}, xml("reactions", { xmlns: NS.reactions }, xml("reaction", {}, "x"))),
    ).toBe("bad-request");
    const iqError = await alice
      .iq(xml("iq", { type: "get", to: bobJid }, xml("query", { xmlns: "jabber:iq:roster" })))
      .catch((e: Error) => e);
    expect(iqError).toBeInstanceOf(Error);
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "ok1" }, xml("body", {}, "still here")));
    expect((await lastChat(before + 1))?.chat).toEqual({ type: "message", id: "ok1", text: "still here" });
  });

  it("refuses users of a domain that is not allow-listed", async () => {
    const mallory = await connect("mallory", "elsewhere.localhost");
    const before = chats.length;
    await mallory.send(xml("message", { type: "chat", to: bobJid, id: "x1" }, xml("body", {}, "let me in")));
    const answer = await mallory.next(
      (s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "x1",
    );
    expect(errorOf(answer)).toBe("not-allowed");
    expect(chats.length).toBe(before);
  });

  it("hosts a group conversation as a room: invitation, join with history, messages both ways, leave", async () => {
    const roomJid = `${room}@${prosody.componentDomain}`;
    const user: BareJid = { local: "alice", domain: prosody.host };
    side.rooms.invite(user, room, "You were added to a group.");
    const invitation = await alice.next(
      (s) => s.is("message") && s.getChild("x", "jabber:x:conference")?.attrs.jid === roomJid,
    );
    expect(invitation.getChildText("body")).toContain(roomJid);

    await alice.send(
      xml("presence", { to: `${room}@${prosody.componentDomain}/Alice` }, xml("x", { xmlns: NS.muc })),
    );
    const fromRoom = (s: Element) => s.attrs.from?.split("/")[0] === roomJid;
    const occupant = await alice.next((s) => s.is("presence") && s.attrs.from === `${roomJid}/${BOB}`);
    expect(occupant.getChild("x", "http://jabber.org/protocol/muc#user")).toBeDefined();
    const self = await alice.next((s) => s.is("presence") && s.attrs.from === `${roomJid}/Alice`);
    const codes = self
      .getChild("x", "http://jabber.org/protocol/muc#user")
      ?.getChildren("status")
      .map((c) => c.attrs.code);
    expect(codes).toContain("110");
    const history = await alice.next((s) => fromRoom(s) && s.attrs.id === "h1");
    expect(history.attrs.type).toBe("groupchat");
    expect(history.getChild("delay", "urn:xmpp:delay")?.attrs.stamp).toBe("2026-11-22T04:00:00.000Z");
    const stanzaId = (s: Element) => s.getChild("stanza-id", NS.sid)?.attrs;
    expect(stanzaId(history)).toEqual({ xmlns: NS.sid, id: "urn:uuid:h1", by: roomJid });
    expect((await alice.next((s) => fromRoom(s) && s.attrs.id === "h2")).attrs.from).toBe(`${roomJid}/Alice`);
    expect(
      (await alice.next((s) => fromRoom(s) && s.getChild("subject") !== undefined)).getChildText("subject"),
    ).toBe("Weekend plans");

    // A presence change of a joined resource is not a new join (no second round of history).
    await alice.send(xml("presence", { to: `${roomJid}/Alice` }, xml("show", {}, "away")));
    await alice.send(
      xml("message", { type: "groupchat", to: roomJid, id: "g1" }, xml("body", {}, "count me in")),
    );
    const reflected = await alice.next((s) => fromRoom(s) && s.attrs.id === "g1");
    expect(alice.received.filter((s) => fromRoom(s) && s.attrs.id === "h1")).toHaveLength(1);
    expect(reflected.attrs.from).toBe(`${roomJid}/Alice`);
    // The room's stanza-id of the user's own message is the new Note's id (what the room's members know).
    expect(stanzaId(reflected)?.id).toBe("urn:uuid:note-g1");
    expect(roomChats).toEqual([{ room, chat: { type: "message", id: "g1", text: "count me in" } }]);

    expect(side.rooms.deliver(room, BOB, { type: "message", id: "b9", text: "great" })).toBe(true);
    const live = await alice.next((s) => fromRoom(s) && s.attrs.id === "b9");
    expect([live.attrs.type, live.attrs.from, live.getChildText("body")]).toEqual([
      "groupchat",
      `${roomJid}/${BOB}`,
      "great",
    ]);
    expect(stanzaId(live)?.id).toBe("b9");

    // Members come and go as the group changes on the Fediverse side.
    const presenceOf = (nick: string, type?: string) =>
      alice.next((s) => s.is("presence") && s.attrs.from === `${roomJid}/${nick}` && s.attrs.type === type);
    side.rooms.member(room, "carol@other.example", false);
    const gone = await presenceOf("carol@other.example", "unavailable");
    expect(gone.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item")?.attrs.role).toBe(
      "none",
    );
    side.rooms.member(room, "dave@other.example", true);
    await presenceOf("dave@other.example");

    const info = await alice.iq(
      xml("iq", { type: "get", to: roomJid }, xml("query", { xmlns: NS.discoInfo })),
    );
    expect(
      info
        .getChild("query")
        ?.getChildren("feature")
        .map((f) => f.attrs.var),
    ).toContain(NS.sid);

    await alice.send(xml("presence", { type: "unavailable", to: `${roomJid}/Alice` }));
    const left = await alice.next(
      (s) => s.is("presence") && s.attrs.type === "unavailable" && s.attrs.from === `${roomJid}/Alice`,
    );
    expect(left).toBeDefined();
    expect(side.rooms.joined(room)).toBe(false);
  });

  it("refuses unknown rooms and writing to a room before joining", async () => {
    const other = roomLocalpart({ local: "alice", domain: prosody.host }, "urn:uuid:unknown");
    await alice.send(
      xml(
        "presence",
        { to: `${other}@${prosody.componentDomain}/Alice`, id: "j1" },
        xml("x", { xmlns: NS.muc }),
      ),
    );
    const refused = await alice.next(
      (s) => s.is("presence") && s.attrs.type === "error" && s.attrs.id === "j1",
    );
    expect(errorOf(refused)).toBe("item-not-found");
    await alice.send(
      xml(
        "message",
        { type: "groupchat", to: `${room}@${prosody.componentDomain}`, id: "g2" },
        xml("body", {}, "hi?"),
      ),
    );
    const notJoined = await alice.next((s) => s.attrs.type === "error" && s.attrs.id === "g2");
    expect(errorOf(notJoined)).toBe("not-acceptable");
  });

  it("never writes a stanza from outside its domain (the server would drop the stream)", () => {
    expect(side.link.send(xml("message", { from: "alice@localhost", to: "alice@localhost" }))).toBe(false);
    expect(side.link.online).toBe(true);
  });

  it("survives a Prosody restart and delivers what was sent while it was down", async () => {
    for (const u of users.splice(0)) await u.stop();
    await prosody.restart();
    // The component may not have noticed yet; what is sent now is kept until the link is back.
    side.deliver({ local: "alice", domain: prosody.host }, BOB, {
      type: "message",
      id: "after-restart",
      text: "still bridged",
    });
    await side.link.waitOnline(15_000);
    const again = await connect("alice", prosody.host);
    const m = await again.next((s) => s.is("message") && s.attrs.id === "after-restart");
    expect(m.getChildText("body")).toBe("still bridged");
    await again.send(xml("message", { type: "chat", to: bobJid, id: "r1" }, xml("body", {}, "back")));
    expect((await lastChat(chats.length + 1))?.chat).toMatchObject({ id: "r1", text: "back" });
    expect(logs.some((l) => l.event === "xmpp.disconnected")).toBe(true);
  });
});
