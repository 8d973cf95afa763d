// A conversation between sottod and a peer that behaves as Emissary's client does (ts-mls 2 release candidate,
// its wire shapes: see src/peer/emissary.ts), over two real sotto-servers on loopback, both ways. Issue 15,
// points 1, 2, 3, 4 and 6, and issue 14 point 4. API results are checked against the API's own schemas, as
// the daemon's API server does before answering.
import { Conversation, methods } from "@sotto/api";
import { canonicalApplicationId } from "@sotto/core";
import type { Daemon } from "@sotto/daemon";
import { joined, messageOf, until, useWorld } from "@sotto/daemon/testing";
import type { SottoServer } from "@sotto/server";
import { beforeAll, describe, expect, it } from "vitest";
import { type Decrypted, EmissaryPeer } from "./peer/emissary.js";

/** `messages.list` as the API answers it: valid against its schema, or the test fails. */
function listed(daemon: Daemon, conversationId: string) {
  return methods["messages.list"].result.parse(daemon.listMessages({ conversationId, limit: 500 })).messages;
}

/** Waits until the peer has decrypted application data matching `match`. */
async function peerReceives(peer: EmissaryPeer, what: string, match: (d: Decrypted["data"]) => boolean) {
  return until(
    what,
    async () => {
      await peer.poll();
      return peer.received.find((r) => match(r.data));
    },
    60_000,
  );
}

function eventsOf(daemon: Daemon, type: string) {
  return daemon.store.since(0, 10_000).events.filter((e) => e.type === type);
}

describe("sottod and an Emissary client, end to end", () => {
  const world = useWorld();
  let bob: Daemon;
  let carol: Daemon;
  let emma: EmissaryPeer;
  let conversationId: string;
  let emmaNoteId: string;

  beforeAll(async () => {
    const emmasServer = await world().server();
    const bobsServer = await world().server();
    bob = await world().daemon(bobsServer, "bob");
    carol = await world().daemon(emmasServer, "carol");
    for (const daemon of [bob, carol]) {
      await daemon.start();
      await daemon.maintainKeyPackages();
    }
    emma = await EmissaryPeer.create(emmasServer, "emma");
    conversationId = await emma.createGroup([bob.actorId]);
    await joined(bob, conversationId, "bob");
  });

  it("keeps Emissary's uri:uuid: group id byte for byte", () => {
    expect(conversationId).toMatch(/^uri:uuid:[0-9A-F-]{36}$/);
    expect(bob.getConversation(conversationId).id).toBe(conversationId);
  });

  it("lists a Note with Emissary's empty inReplyTo, valid against the API schema (15.3)", async () => {
    const note = emma.note("<p>hello bob</p>");
    emmaNoteId = (note.object as { id: string }).id;
    expect((note.object as { inReplyTo: string }).inReplyTo).toBe("");
    await emma.send(note);
    await until("bob has emma's note", () => listed(bob, conversationId).length > 0 || undefined, 60_000);
    const [message] = listed(bob, conversationId);
    expect(message).toMatchObject({ author: emma.actorId, content: "<p>hello bob</p>", inReplyTo: null });
  });

  it("sends attributedTo and actor, and Emissary's own ids back byte for byte (15.1, 15.2)", async () => {
    // Read without the list's schema check: this test stands apart from 15.3's.
    const original = bob.getMessage(conversationId, canonicalApplicationId(emmaNoteId));
    const reply = await bob.sendMessage({ conversationId, text: "hi emma", inReplyTo: original.id });
    const created = await peerReceives(emma, "emma has bob's reply", (d) => d.type === "Create");
    expect(created.data).toMatchObject({
      type: "Create",
      actor: bob.actorId,
      object: { type: "Note", attributedTo: bob.actorId, inReplyTo: emmaNoteId, content: "hi emma" },
    });
    // Emissary's rule: a decrypted activity's actor must be its object's attributedTo.
    expect((created.data.object as { attributedTo: string }).attributedTo).toBe(created.data.actor);
    expect(reply.inReplyTo).toBe(original.id);

    await bob.react({ conversationId, messageId: original.id, emoji: "👍" });
    const liked = await peerReceives(emma, "emma has bob's Like", (d) => d.type === "Like");
    expect(liked.data).toMatchObject({ actor: bob.actorId, object: emmaNoteId, content: "👍" });

    await bob.markRead({ conversationId, messageId: original.id });
    const read = await peerReceives(emma, "emma has bob's Read", (d) => d.type === "Read");
    expect(read.data).toMatchObject({ actor: bob.actorId, object: emmaNoteId });

    // Sotto's Undo embeds the whole Like, so a peer that matches by (actor, object, content) applies it (15.4).
    await bob.unreact({ conversationId, messageId: original.id, emoji: "👍" });
    const undo = await peerReceives(emma, "emma has bob's Undo", (d) => d.type === "Undo");
    expect(undo.data).toMatchObject({
      actor: bob.actorId,
      object: { type: "Like", id: liked.data.id, actor: bob.actorId, object: emmaNoteId, content: "👍" },
    });
  });

  it("takes back a reaction when Emissary's Undo names the Like without its id (15.4)", async () => {
    const sent = await bob.sendMessage({ conversationId, text: "react to this" });
    const created = await peerReceives(
      emma,
      "emma has the message",
      (d) => (d.object as { content?: string } | undefined)?.content === "react to this",
    );
    const messageId = (created.data.object as { id: string }).id;
    await emma.send({
      "@context": "https://www.w3.org/ns/activitystreams",
      type: "Like",
      id: "uri:uuid:6F1C0D2E-5B4A-4C39-9D8E-7A6B5C4D3E2F",
      actor: emma.actorId,
      object: messageId,
      content: "🎉",
    });
    await until("bob sees emma's reaction", () => messageOf(bob, conversationId, sent.id)?.reactions.length);
    await emma.send({
      "@context": "https://www.w3.org/ns/activitystreams",
      type: "Undo",
      actor: emma.actorId,
      object: { type: "Like", actor: emma.actorId, object: messageId, content: "🎉" },
    });
    await until(
      "bob sees the reaction taken back",
      () => messageOf(bob, conversationId, sent.id)?.reactions.length === 0,
      60_000,
    );
  });

  it("refuses a 540 kB inline attachment on receipt and keeps the history listable (issue 14, 4)", async () => {
    const big = emma.note("<p>a big one</p>");
    const bytes = Buffer.alloc(540_000, 1).toString("base64");
    (big.object as Record<string, unknown>).attachment = [
      { type: "Image", mediaType: "image/png", url: `data:image/png;base64,${bytes}` },
    ];
    await emma.send(big);
    await emma.send(emma.note("<p>after the big one</p>"));
    await until(
      "bob has the message after the big one",
      () => listed(bob, conversationId).some((m) => m.content === "<p>after the big one</p>"),
      60_000,
    );
    const messages = methods["messages.list"].result.parse(bob.listMessages({ conversationId, limit: 1 }));
    expect(messages.messages).toHaveLength(1);
    expect(listed(bob, conversationId).some((m) => m.content === "<p>a big one</p>")).toBe(false);
  });

  it("flags a Remove commit without UpdatePath as out of step, with an event and a field (15.6)", async () => {
    const erin = await EmissaryPeer.create(world().servers[0] as SottoServer, "erin");
    const groupId = await erin.createGroup([bob.actorId, carol.actorId]);
    await joined(bob, groupId, "bob");
    await joined(carol, groupId, "carol");
    expect(Conversation.parse(bob.getConversation(groupId)).outOfStep).toBeNull();

    await erin.remove(carol.actorId);
    const flagged = await until(
      "bob flags the conversation",
      () => bob.getConversation(groupId).outOfStep ?? undefined,
      60_000,
    );
    expect(flagged).toMatchObject({ actor: erin.actorId, reason: expect.stringMatching(/path/i) });
    expect(Conversation.parse(bob.getConversation(groupId)).outOfStep?.actor).toBe(erin.actorId);
    expect(eventsOf(bob, "conversation.out_of_step").map((e) => e.data)).toContainEqual({
      conversationId: groupId,
      actor: erin.actorId,
      reason: flagged.reason,
    });
    // Still refused: bob's epoch did not move.
    expect(bob.getConversation(groupId).epoch).toBe(1);

    // The recovery docs/interop.md gives: that member removes this device and adds it again.
    await erin.remove(bob.actorId);
    await erin.add([bob.actorId]);
    await until("bob is in step again", () => bob.getConversation(groupId).outOfStep === null, 60_000);
    expect(bob.getConversation(groupId).alerts).toContainEqual(
      expect.objectContaining({ kind: "readded", actorId: erin.actorId }),
    );
    const note = erin.note("<p>back in step</p>");
    await erin.send(note);
    await until("bob reads erin again", () =>
      listed(bob, groupId).some((m) => m.content === "<p>back in step</p>"),
    );
  });
});
