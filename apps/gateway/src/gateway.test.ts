// End to end: an XMPP user (a real Prosody, @xmpp/client) and a Fediverse user (sotto-server + sottod) talk
// through the gateway (component + its own sotto-server with one MLS puppet per XMPP user).

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Message } from "@sotto/api";
import { writeMessageCreate } from "@sotto/core";
import type { Daemon } from "@sotto/daemon";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jidForHandle } from "./addressing.js";
import { ENCRYPTION_NOTICE } from "./bridge.js";
import type { Gateway } from "./gateway.js";
import type { Log } from "./log.js";
import type { Puppets } from "./puppets.js";
import { startTestGateway } from "./testing/gateway.js";
import { freePort, type Prosody, startProsody } from "./testing/prosody.js";
import { startSottod } from "./testing/sottod.js";
import { waitFor } from "./testing/wait.js";
import { loginUser, type XmppUser } from "./testing/xmpp-user.js";
import { NS } from "./xmpp/namespaces.js";
import { type Element, xml } from "./xmpp/xml.js";

const dir = mkdtempSync(join(tmpdir(), "sotto-gw-e2e-"));
const logs: { level: string; event: string; fields: Record<string, unknown> }[] = [];
const log: Log = (level, event, fields = {}) => logs.push({ level, event, fields: { ...fields } });

/** An MLSMessage framed as a PrivateMessage (RFC 9420 §6.3.2) whose sender data and ciphertext are noise. */
function bogusPrivateMessage(groupId: string, epoch: number): Uint8Array {
  const group = Buffer.from(groupId, "utf8"); // < 64 bytes: a one-byte varint length
  const senderData = randomBytes(32);
  const ciphertext = randomBytes(48);
  return Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00, 0x02, group.length]),
    group,
    Buffer.from(BigInt.asUintN(64, BigInt(epoch)).toString(16).padStart(16, "0"), "hex"),
    Buffer.from([0x01, 0x00, senderData.length]), // application content, no authenticated data
    senderData,
    Buffer.from([ciphertext.length]),
    ciphertext,
  ]);
}

describe("gateway end to end", () => {
  let prosody: Prosody;
  let home: SottoServer;
  let bob: Daemon;
  let gateway: Gateway | undefined;
  let gatewayPort: number;
  let alice: XmppUser;
  let bobJid: string;
  let conversationId: string;
  let bobToken: string;
  let joinedRoom: { jid: string; conversationId: string } | undefined;

  const openGateway = () =>
    startTestGateway({ prosody, dataDir: join(dir, "gateway"), port: gatewayPort, log, pollIntervalMs: 200 });
  const fromBob = (s: Element) => s.is("message") && s.attrs.from?.split("/")[0] === bobJid;
  const bobMessages = (): Message[] => bob.listMessages({ conversationId }).messages;
  const bobSees = (what: string, match: (m: Message) => boolean) =>
    waitFor(what, () => (conversationId ? bobMessages().find(match) : undefined));

  beforeAll(async () => {
    prosody = await startProsody();
    prosody.register("alice", "pw-alice");
    home = await startServer({ dataDir: join(dir, "home") });
    ({ daemon: bob, token: bobToken } = await startSottod(home, "bob", join(dir, "bob"), {
      pollIntervalMs: 200,
    }));
    gatewayPort = await freePort();
    gateway = await openGateway();
    await gateway.xmpp.link.waitOnline();
    bobJid = jidForHandle(`bob@${home.domain}`, prosody.componentDomain);
    alice = await loginUser(prosody, "alice");
  }, 120_000);

  afterAll(async () => {
    await alice?.stop();
    await gateway?.stop();
    await bob?.stop();
    await home?.close();
    await prosody?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("carries a message each way, and tells the XMPP user once that encryption ends at the gateway", async () => {
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "a1" }, xml("body", {}, "hello <bob>")));
    const notice = await alice.next((s) => fromBob(s) && s.getChildText("body") === ENCRYPTION_NOTICE);
    expect(notice).toBeDefined();
    conversationId = await waitFor("bob's conversation", () => bob.listConversations().conversations[0]?.id);
    const got = await bobSees("alice's message", (m) => m.content.includes("hello"));
    expect(got.content).toBe("hello &lt;bob&gt;");
    const puppet = await gateway?.fediverse.ensurePuppet({ local: "alice", domain: prosody.host });
    expect(puppet?.ok && got.author).toBe(puppet?.ok && puppet.value.actorId);

    const sent = await bob.sendMessage({
      conversationId,
      text: "<p>hi <em>alice</em></p>",
      mediaType: "text/html",
    });
    const reply = await alice.next((s) => fromBob(s) && s.attrs.id === sent.id);
    expect(reply.getChildText("body")).toBe("hi alice");
    expect(alice.received.filter((s) => s.getChildText("body") === ENCRYPTION_NOTICE)).toHaveLength(1);
  });

  it("answers a receipt request once the Fediverse side has the message, naming the stanza id (XEP-0184)", async () => {
    // No request: no receipt. Messages of one conversation are posted in order, so once the receipt of the
    // next one is in, one for this one would have come before it.
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "r0" }, xml("body", {}, "no receipt")));
    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "r1-stanza" },
        xml("body", {}, "receipt please"),
        xml("origin-id", { xmlns: NS.sid, id: "r1-origin" }),
        xml("request", { xmlns: NS.receipts }),
      ),
    );
    const receipt = await alice.next((s) => fromBob(s) && s.getChild("received", NS.receipts) !== undefined);
    expect(receipt.getChild("received", NS.receipts)?.attrs.id).toBe("r1-stanza");
    const stored = await bobSees("the requested message", (m) => m.content === "receipt please");
    expect(bob.getMessage(conversationId, stored.id).content).toBe("receipt please");
    expect(alice.received.filter((s) => s.getChild("received", NS.receipts))).toHaveLength(1);

    // XEP-0308 corrections point at the `id` attribute, which here differs from the origin-id.
    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "r2" },
        xml("body", {}, "receipt, please"),
        xml("replace", { xmlns: NS.correction, id: "r1-stanza" }),
      ),
    );
    await bobSees(
      "the correction by stanza id",
      (m) => m.id === stored.id && m.content === "receipt, please",
    );
  });

  it("keeps the indentation of multi-line text from the Fediverse", async () => {
    const text = "steps:\n  1. one\n    1.1 nested\n\tdone";
    const sent = await bob.sendMessage({ conversationId, text });
    expect((await alice.next((s) => fromBob(s) && s.attrs.id === sent.id)).getChildText("body")).toBe(text);
  });

  it("carries files each way: links fetched and sent inline, Fediverse files served with type and size", async () => {
    // An upload service as XEP-0363 hands out: files behind plain HTTP GET URLs.
    const png = randomBytes(3000);
    const uploads = createServer((req, res) => {
      if (req.url === "/up/cat.png") res.writeHead(200, { "content-type": "image/png" }).end(png);
      else if (req.url === "/up/big.bin") res.writeHead(200).end(Buffer.alloc(600 * 1024));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => uploads.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(uploads.address() as AddressInfo).port}/up`;
    const withFile = (id: string, url: string, text?: string) =>
      xml(
        "message",
        { type: "chat", to: bobJid, id },
        xml("body", {}, text ? `${text}\n${url}` : url),
        xml("x", { xmlns: NS.oob }, xml("url", {}, url)),
      );
    try {
      await alice.send(withFile("f1", `${base}/cat.png`, "look"));
      const got = await bobSees("the file", (m) => (m.attachments?.length ?? 0) > 0);
      expect(got.content).toBe("look");
      expect(got.attachments).toEqual([
        { mediaType: "image/png", name: "cat.png", data: png.toString("base64") },
      ]);

      await alice.send(withFile("f2", `${base}/big.bin`));
      const refused = await alice.next((s) => s.attrs.type === "error" && s.attrs.id === "f2");
      expect(refused.getChild("error")?.getChildElements()[0]?.name).toBe("not-acceptable");
      expect(
        refused.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas"),
      ).toContain("512 KiB");
    } finally {
      uploads.closeAllConnections();
      uploads.close();
    }

    const data = new TextEncoder().encode("hello file");
    const sent = await bob.sendMessage({
      conversationId,
      text: "a file for you",
      attachments: [{ mediaType: "text/plain", name: "notes.txt", data }],
    });
    const m = await alice.next((s) => fromBob(s) && s.attrs.id === sent.id);
    const oob = m.getChild("x", NS.oob);
    const link = oob?.getChildText("url") ?? "";
    expect(m.getChildText("body")).toBe(`a file for you\n${link}`);
    expect(oob?.getChildText("desc")).toBe("notes.txt (text/plain, 10 B)");
    const served = await fetch(link);
    expect([served.status, served.headers.get("content-type"), served.headers.get("content-length")]).toEqual(
      [200, "text/plain", "10"],
    );
    expect(await served.text()).toBe("hello file");
    expect((await fetch(link.replace(/\/media\/[^/]+/, "/media/AAAAAAAAAAAAAAAAAAAAAA"))).status).toBe(404);
  });

  it("carries corrections each way", async () => {
    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "a2" },
        xml("body", {}, "hello bob!"),
        xml("replace", { xmlns: NS.correction, id: "a1" }),
      ),
    );
    const edited = await bobSees("the edit", (m) => m.content === "hello bob!");
    expect(edited.editedAt).not.toBeNull();

    const bobsFirst = bobMessages().find((m) => m.author === bob.actorId);
    if (!bobsFirst) throw new Error("bob's message is missing");
    await bob.editMessage({
      conversationId,
      messageId: bobsFirst.id,
      text: "<p>hi <b>Alice</b></p>",
      mediaType: "text/html",
    });
    const correction = await alice.next(
      (s) => fromBob(s) && s.getChild("replace", NS.correction)?.attrs.id === bobsFirst.id,
    );
    expect(correction.getChildText("body")).toBe("hi Alice");
  });

  it("carries reactions and receipts each way", async () => {
    const aliceMessage = await bobSees("alice's message", (m) => m.content === "hello bob!");
    const bobsFirst = bobMessages().find((m) => m.author === bob.actorId);
    if (!bobsFirst) throw new Error("bob's message is missing");

    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "a3" },
        xml("reactions", { xmlns: NS.reactions, id: bobsFirst.id }, xml("reaction", {}, "👍")),
      ),
    );
    await bobSees(
      "alice's reaction",
      (m) => m.id === bobsFirst.id && m.reactions.some((r) => r.emoji === "👍"),
    );

    await bob.react({ conversationId, messageId: aliceMessage.id, emoji: "🎉" });
    const reactions = await alice.next(
      (s) => fromBob(s) && s.getChild("reactions", NS.reactions)?.attrs.id === "a1",
    );
    expect(reactions.getChild("reactions", NS.reactions)?.getChildText("reaction")).toBe("🎉");

    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "a4" },
        xml("displayed", { xmlns: NS.markers, id: bobsFirst.id }),
      ),
    );
    const read = await bobSees("alice's read receipt", (m) => m.id === bobsFirst.id && m.readBy.length > 0);
    expect(read.readBy).toHaveLength(1);

    await bob.markRead({ conversationId, messageId: aliceMessage.id });
    const marker = await alice.next(
      (s) => fromBob(s) && s.getChild("displayed", NS.markers)?.attrs.id === "a1",
    );
    expect(marker).toBeDefined();
  });

  it("carries retractions each way", async () => {
    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "a5" },
        xml("retract", { xmlns: NS.retraction, id: "a1" }),
      ),
    );
    await bobSees("the deletion", (m) => m.deleted && m.author !== bob.actorId);
    // The older, fastened form (message-retract:0) from clients that know only it.
    await alice.send(
      xml("message", { type: "chat", to: bobJid, id: "a5b" }, xml("body", {}, "take me back")),
    );
    const old = await bobSees("the message to retract", (m) => m.content === "take me back");
    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "a5c" },
        xml("apply-to", { xmlns: NS.fasten, id: "a5b" }, xml("retract", { xmlns: NS.retraction0 })),
      ),
    );
    await bobSees("the :0 deletion", (m) => m.id === old.id && m.deleted);

    const doomed = await bob.sendMessage({ conversationId, text: "oops" });
    await alice.next((s) => fromBob(s) && s.attrs.id === doomed.id);
    await bob.deleteMessage({ conversationId, messageId: doomed.id });
    const retraction = await alice.next(
      (s) => fromBob(s) && s.getChild("retract", NS.retraction)?.attrs.id === doomed.id,
    );
    // Both forms, so that clients knowing only :0 retract it too.
    const fastened = retraction.getChild("apply-to", NS.fasten);
    expect(fastened?.attrs.id).toBe(doomed.id);
    expect(fastened?.getChild("retract", NS.retraction0)).toBeDefined();
  });

  it("bridges a group conversation as a room: invitation when added, history, the title as subject, room stanza-ids, members leaving", async () => {
    const { daemon: carol, actorId: carolActorId } = await startSottod(home, "carol", join(dir, "carol"), {
      pollIntervalMs: 200,
    });
    try {
      const puppet = await gateway?.fediverse.ensurePuppet({ local: "alice", domain: prosody.host });
      if (!puppet?.ok) throw new Error("no puppet");
      // The invitation comes when the puppet is added, before anything is said in the group.
      const group = await bob.createConversation({
        members: [puppet.value.actorId, carolActorId],
        title: "Book club",
      });
      const invitation = await alice.next((s) => s.getChild("x", "jabber:x:conference") !== undefined);
      const roomJid = invitation.getChild("x", "jabber:x:conference")?.attrs.jid ?? "";
      expect(invitation.getChild("x", "jabber:x:conference")?.attrs.reason).toContain(
        "not between you and the gateway",
      );
      const first = await bob.sendMessage({ conversationId: group.id, text: "hello group" });

      const fromRoom = (s: Element) => s.attrs.from?.split("/")[0] === roomJid;
      const stanzaId = (s: Element) => s.getChild("stanza-id", NS.sid)?.attrs;
      await waitFor("the puppet to hold the group message", () =>
        (gateway?.fediverse as Puppets | undefined)
          ?.device({ local: "alice", domain: prosody.host })
          ?.listMessages({ conversationId: group.id }).messages.length
          ? true
          : undefined,
      );
      await alice.send(xml("presence", { to: `${roomJid}/alice` }, xml("x", { xmlns: NS.muc })));
      const history = await alice.next((s) => fromRoom(s) && s.getChildText("body") === "hello group");
      expect(history.attrs.from).toBe(`${roomJid}/bob@${home.domain}`);
      expect(stanzaId(history)).toMatchObject({ id: first.id, by: roomJid });
      // The group's title, which the members share, is the room's subject; a member's rename changes it.
      const subject = await alice.next((s) => fromRoom(s) && s.getChild("subject") !== undefined);
      expect(subject.getChildText("subject")).toBe("Book club");
      await carol.setTitle({ conversationId: group.id, title: "Reading group" });
      const renamed = await alice.next((s) => fromRoom(s) && s.getChild("subject") !== undefined);
      expect([renamed.attrs.type, renamed.attrs.from, renamed.getChildText("subject")]).toEqual([
        "groupchat",
        roomJid,
        "Reading group",
      ]);

      await alice.send(
        xml("message", { type: "groupchat", to: roomJid, id: "g1" }, xml("body", {}, "hi both")),
      );
      const reflected = await alice.next((s) => fromRoom(s) && s.attrs.id === "g1");
      const seenBy = (d: Daemon, text: string) =>
        waitFor(text, () =>
          d.listMessages({ conversationId: group.id }).messages.find((m) => m.content === text),
        );
      // The room's stanza-id of the user's own message is the Note id every member knows it by.
      expect(stanzaId(reflected)).toMatchObject({ id: (await seenBy(bob, "hi both")).id, by: roomJid });
      await seenBy(carol, "hi both");

      const later = await carol.sendMessage({ conversationId: group.id, text: "hi from carol" });
      const live = await alice.next((s) => fromRoom(s) && s.attrs.id === later.id);
      expect([live.attrs.type, live.attrs.from, live.getChildText("body")]).toEqual([
        "groupchat",
        `${roomJid}/carol@${home.domain}`,
        "hi from carol",
      ]);
      expect(stanzaId(live)?.id).toBe(later.id);

      // Retractions in a room name the room's stanza-id (XEP-0424).
      await alice.send(
        xml(
          "message",
          { type: "groupchat", to: roomJid, id: "g2" },
          xml("retract", { xmlns: NS.retraction, id: String(stanzaId(reflected)?.id) }),
        ),
      );
      await waitFor("the retraction", () =>
        bob
          .listMessages({ conversationId: group.id })
          .messages.find((m) => m.id === stanzaId(reflected)?.id && m.deleted),
      );

      // A member removed on the Fediverse side leaves the room.
      await bob.removeMembers({ conversationId: group.id, members: [carolActorId] });
      const gone = await alice.next(
        (s) =>
          s.is("presence") &&
          s.attrs.from === `${roomJid}/carol@${home.domain}` &&
          s.attrs.type === "unavailable",
      );
      expect(gone).toBeDefined();
      joinedRoom = { jid: roomJid, conversationId: group.id };
    } finally {
      await carol.stop();
    }
  });

  it("answers bad XMPP input with errors and skips bad Fediverse input, and keeps running", async () => {
    const errorOf = async (id: string) =>
      (await alice.next((s) => s.attrs.type === "error" && s.attrs.id === id))
        .getChild("error")
        ?.getChildElements()[0]?.name;
    await alice.send(
      xml(
        "message",
        { type: "chat", to: bobJid, id: "e1" },
        xml("body", {}, "x"),
        xml("replace", { xmlns: NS.correction, id: "nope" }),
      ),
    );
    expect(await errorOf("e1")).toBe("item-not-found");
    const nobody = jidForHandle(`nobody@${home.domain}`, prosody.componentDomain);
    await alice.send(xml("message", { type: "chat", to: nobody, id: "e2" }, xml("body", {}, "anyone?")));
    expect(await errorOf("e2")).toBe("item-not-found");

    // Bogus MLS: a well-framed PrivateMessage of the conversation's group and epoch, with noise for sender data
    // and ciphertext, sent by bob's server to the puppet. Its engine skips it with a typed error; all goes on.
    const puppet = await gateway?.fediverse.ensurePuppet({ local: "alice", domain: prosody.host });
    if (!puppet?.ok) throw new Error("no puppet");
    const groupId = conversationId;
    const bytes = bogusPrivateMessage(groupId, bob.getConversation(conversationId).epoch);
    const before = logs.length;
    const posted = await fetch(`${home.origin}/users/bob/outbox`, {
      method: "POST",
      headers: { "content-type": "application/activity+json", authorization: `Bearer ${bobToken}` },
      body: JSON.stringify(
        writeMessageCreate({
          actor: bob.actorId,
          recipients: [puppet.value.actorId],
          bytes,
          context: groupId,
        }),
      ),
    });
    expect(posted.status).toBe(201);
    const skipped = await waitFor("the puppet's engine to skip the bogus message", () =>
      logs.slice(before).find((l) => l.fields.puppet === "alice" && l.event === "engine.skipped"),
    );
    expect(String(skipped.fields.reason)).toMatch(/^mls\./);

    const still = await bob.sendMessage({ conversationId, text: "still there?" });
    expect((await alice.next((s) => fromBob(s) && s.attrs.id === still.id)).getChildText("body")).toBe(
      "still there?",
    );
  });

  it("loses nothing across a restart of the gateway", async () => {
    await gateway?.stop();
    gateway = undefined;
    const whileDown = await bob.sendMessage({ conversationId, text: "while you were away" });
    gateway = await openGateway();
    await gateway.xmpp.link.waitOnline();
    const got = await alice.next((s) => fromBob(s) && s.attrs.id === whileDown.id, 30_000);
    expect(got.getChildText("body")).toBe("while you were away");
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "a6" }, xml("body", {}, "back again")));
    await bobSees("the message after the restart", (m) => m.content === "back again");
    // alice stayed in the group's room: the restarted gateway still knows her there.
    if (!joinedRoom) throw new Error("the room test did not run");
    const { jid, conversationId: groupId } = joinedRoom;
    const inRoom = await bob.sendMessage({ conversationId: groupId, text: "anyone still here?" });
    const got2 = await alice.next(
      (s) => s.attrs.from?.split("/")[0] === jid && s.attrs.id === inRoom.id,
      30_000,
    );
    expect(got2.attrs.type).toBe("groupchat");
    // No second 1:1 conversation (the group, two members since carol left, stays a group).
    const oneToOne = bob
      .listConversations()
      .conversations.filter((c) => c.members.length === 2 && c.id !== groupId);
    expect(oneToOne).toHaveLength(1);
    expect(alice.received.filter((s) => s.getChildText("body") === ENCRYPTION_NOTICE)).toHaveLength(1);
  });

  it("shows 20 messages sent during a 5-second gateway restart once, in order, within a minute of it", async () => {
    await gateway?.stop();
    gateway = undefined;
    const sent: string[] = [];
    for (let i = 0; i < 20; i++)
      sent.push((await bob.sendMessage({ conversationId, text: `while down ${i}` })).id);
    // Down for 5 s: bob's server fails to deliver to the gateway's server (enough to open its circuit on it).
    await sleep(5_000);
    gateway = await openGateway();
    const deadline = Date.now() + 60_000;
    for (const id of sent) {
      await alice.next((s) => fromBob(s) && s.attrs.id === id, Math.max(1, deadline - Date.now()));
    }
    // Once each: a message sent after them comes after any copy of theirs.
    const after = await bob.sendMessage({ conversationId, text: "after the restart" });
    await alice.next((s) => fromBob(s) && s.attrs.id === after.id, 30_000);
    const shown = alice.received.filter((s) => fromBob(s) && sent.includes(s.attrs.id ?? ""));
    expect(shown.map((s) => s.attrs.id)).toEqual(sent);
    expect(shown.map((s) => s.getChildText("body"))).toEqual(sent.map((_, i) => `while down ${i}`));
  });

  it("survives a Prosody restart, even with the gateway stopped while Prosody was down", async () => {
    await alice.stop();
    let whileDown = "";
    await prosody.restart(async () => {
      await waitFor("the link to notice", () => (gateway?.xmpp.link.online ? undefined : true));
      whileDown = (await bob.sendMessage({ conversationId, text: "sent while XMPP was down" })).id;
      // The puppet receives it, but it cannot be shown yet: it must wait rather than be dropped by a stop.
      const device = (gateway?.fediverse as Puppets | undefined)?.device({
        local: "alice",
        domain: prosody.host,
      });
      await waitFor("the puppet to receive it", () => device?.store.message(whileDown));
      await gateway?.stop();
      gateway = undefined;
    });
    gateway = await openGateway();
    await gateway.xmpp.link.waitOnline(15_000);
    alice = await loginUser(prosody, "alice");
    const got = await alice.next((s) => fromBob(s) && s.attrs.id === whileDown, 30_000);
    expect(got.getChildText("body")).toBe("sent while XMPP was down");
    const after = await bob.sendMessage({ conversationId, text: "after the XMPP server restarted" });
    expect(
      (await alice.next((s) => fromBob(s) && s.attrs.id === after.id, 30_000)).getChildText("body"),
    ).toBe("after the XMPP server restarted");
  });
});
