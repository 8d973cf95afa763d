// The corpus through real daemons: a peer that sends as Emissary does (ts-mls 2 release candidate) on one
// sotto-server encrypts each fixture's application data for a group with sottod on another server; sottod must
// show what the fixture says, and every `messages.list` answer stays valid against the API's schema.
import { methods } from "@sotto/api";
import { canonicalApplicationId } from "@sotto/core";
import type { Daemon } from "@sotto/daemon";
import { joined, until, useWorld } from "@sotto/daemon/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { type Fixture, instantiate, loadFixtures } from "./fixtures.js";
import { EmissaryPeer } from "./peer/emissary.js";

function listed(daemon: Daemon, conversationId: string) {
  return methods["messages.list"].result.parse(daemon.listMessages({ conversationId, limit: 500 })).messages;
}

/** The receiver's id of the message a piece of application data creates (a Create or a bare object). */
function createdId(data: Record<string, unknown>): string | undefined {
  const object = data.type === "Create" ? data.object : data;
  const id = (object as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? canonicalApplicationId(id) : undefined;
}

describe("the interop corpus through sottod, sent by an Emissary-like peer over real servers", () => {
  const world = useWorld();
  let bob: Daemon;
  let emma: EmissaryPeer;
  let group: string;
  let sentinels = 0;

  beforeAll(async () => {
    const [peersServer, bobsServer] = [await world().server(), await world().server()];
    bob = await world().daemon(bobsServer, "bob");
    await bob.start();
    await bob.maintainKeyPackages();
    emma = await EmissaryPeer.create(peersServer, "emma");
    group = await emma.createGroup([bob.actorId]);
    await joined(bob, group, "bob");
  });

  /** Sends the fixture's data (after what it builds on), then a sentinel; resolves once bob has the sentinel. */
  async function deliver(fixture: Fixture): Promise<void> {
    for (const data of [...(fixture.before ?? []), fixture.data]) await emma.send(data);
    const sentinel = `<p>sentinel ${++sentinels}</p>`;
    await emma.send(emma.note(sentinel));
    await until(`bob has ${sentinel}`, () => listed(bob, group).some((m) => m.content === sentinel), 60_000);
  }

  it.each(loadFixtures().map((f) => [`${f.file}: ${f.name}`, f] as const))("%s", async (_, template) => {
    const fixture = instantiate(template, { sender: emma.actorId, recipient: bob.actorId, group });
    const earlier = (fixture.before ?? []).map(createdId);
    const before = new Set(listed(bob, group).map((m) => m.id));
    await deliver(fixture);
    const known = new Set([...before, ...earlier.filter((id) => id !== undefined)]);
    const added = listed(bob, group).filter((m) => !known.has(m.id) && !m.content.startsWith("<p>sentinel "));
    const target = () => {
      const id = earlier[0];
      if (id === undefined) throw new Error("the fixture names no earlier message");
      return bob.getMessage(group, id);
    };
    const expected = fixture.expect;
    const resolve = (value: unknown): unknown =>
      typeof value === "string" && value.startsWith("$MESSAGE:") ? earlier[Number(value.slice(9))] : value;
    switch (expected.shows) {
      case "message": {
        expect(added).toHaveLength(1);
        const wanted = Object.fromEntries(Object.entries(expected.message).map(([k, v]) => [k, resolve(v)]));
        expect(added[0]).toMatchObject({ author: emma.actorId, ...wanted });
        break;
      }
      case "edit":
        expect(target()).toMatchObject({ ...expected.message, editedAt: expect.any(String) });
        break;
      case "deleted":
        expect(target()).toMatchObject({ deleted: true, content: "" });
        break;
      case "reactions":
        expect(target().reactions).toEqual(expected.reactions);
        break;
      case "readBy":
        expect(target().readBy).toEqual(expected.readBy);
        break;
      case "receipt": {
        const receipts = bob.store
          .since(0, 100_000)
          .events.filter((e) => e.type === "receipt")
          .map((e) => e.data);
        expect(receipts).toContainEqual({
          conversationId: group,
          messageId: earlier[0],
          actor: emma.actorId,
          kind: expected.kind,
        });
        break;
      }
      case "title":
        expect(added).toEqual([]);
        expect(bob.getConversation(group).title).toBe(expected.title);
        break;
      case "nothing":
        expect(added).toEqual([]);
        break;
    }
  });
});
