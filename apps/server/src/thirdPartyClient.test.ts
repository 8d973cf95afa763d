// A C2S client that is not sottod, living on sotto-server the way Emissary's client does (issue 15, point 5):
// it finds the push stream from the collection, keeps its own activity ids as cursors, and names its
// KeyPackage by the Location of the Create that published it.
import { randomUUID } from "node:crypto";
import { EVENT_STREAM } from "@sotto/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientCreate, MLS_CONTEXT } from "./testkit/activities.js";
import { collectionIds, eventually, get, getJson, openEvents, post } from "./testkit/client.js";
import { device, messageFor } from "./testkit/mls.js";
import { startTwoServers, type TwoServers } from "./testkit/servers.js";

describe("a third-party client on sotto-server", () => {
  let servers: TwoServers;
  let message: string;

  beforeAll(async () => {
    servers = await startTwoServers();
    message = await messageFor(servers.bob.actorId, servers.alice.actorId);
  });

  afterAll(async () => {
    await servers?.close();
  });

  const create = (from: string, to: string, id?: string) => clientCreate(from, to, message, id);

  it("finds the event stream of messages and inbox in the collection itself", async () => {
    const { alice } = servers;
    for (const collection of [`${alice.actorId}/messages`, `${alice.actorId}/inbox`]) {
      const root = await getJson(collection, alice.token);
      expect(root.eventStream).toBe(collection);
      const terms = (root["@context"] as unknown[]).find((c) => typeof c === "object") as Record<
        string,
        unknown
      >;
      expect(terms.eventStream).toEqual({ "@id": EVENT_STREAM, "@type": "@id" });
      const stream = await openEvents(root.eventStream as string, alice.token);
      expect([stream.status, stream.contentType]).toEqual([200, "text/event-stream"]);
      await stream.close();
    }
  });

  it("reads its inbox, outbox and event stream after the id it gave its own activity", async () => {
    const { alice, bob } = servers;
    const own = `uri:uuid:${randomUUID()}`;
    const sent = await post(`${bob.actorId}/outbox`, bob.token, create(bob.actorId, alice.actorId, own));
    expect(sent.status).toBe(201);
    const serverId = sent.headers.get("location") as string;
    expect(serverId).not.toBe(own);
    // The server's id wins, but the client's id still names the activity.
    const outbox = await getJson(`${bob.actorId}/outbox?after=${encodeURIComponent(own)}`, bob.token);
    expect(outbox.orderedItems).toEqual([]);
    const fromOwn = await get(`${bob.actorId}/inbox?after=${encodeURIComponent(own)}`, bob.token);
    expect(fromOwn.status).toBe(200);

    // What arrives after its own post is read from that cursor, on the inbox and on the stream.
    const reply = await post(`${alice.actorId}/outbox`, alice.token, create(alice.actorId, bob.actorId));
    const replyId = reply.headers.get("location") as string;
    await eventually(async () =>
      (await collectionIds(`${bob.actorId}/inbox`, bob.token)).includes(replyId) ? true : undefined,
    );
    const inbox = await getJson(`${bob.actorId}/inbox?after=${encodeURIComponent(own)}`, bob.token);
    expect((inbox.orderedItems as { id: string }[]).map((i) => i.id)).toEqual([replyId]);
    const stream = await openEvents(`${bob.actorId}/inbox`, bob.token, own);
    try {
      expect(stream.status).toBe(200);
      expect((await stream.next(1)).map((e) => e.id)).toEqual([replyId]);
    } finally {
      await stream.close();
    }
    // An id nobody gave is still unknown.
    expect((await get(`${bob.actorId}/inbox?after=uri:uuid:${randomUUID()}`, bob.token)).status).toBe(404);
  });

  it("updates and deletes a KeyPackage named by the Location of the Create that published it", async () => {
    const { bob } = servers;
    const [first, second] = [await device(bob.actorId), await device(bob.actorId)];
    const keyPackage = (content: string, id?: string) => ({
      ...(id === undefined ? {} : { id }),
      type: "KeyPackage",
      to: "Public",
      mediaType: "message/mls",
      encoding: "base64",
      content,
    });
    const created = await post(`${bob.actorId}/outbox`, bob.token, {
      "@context": MLS_CONTEXT,
      type: "Create",
      to: "Public",
      object: keyPackage(first.keyPackageBase64),
    });
    expect(created.status).toBe(201);
    const location = created.headers.get("location") as string;
    const objectId = ((await created.json()) as { object: { id: string } }).object.id;
    const listed = async () =>
      (await getJson(`${bob.actorId}/keyPackages`)).items as { id: string; content: string }[];

    const updated = await post(`${bob.actorId}/outbox`, bob.token, {
      "@context": MLS_CONTEXT,
      type: "Update",
      to: "Public",
      object: keyPackage(second.keyPackageBase64, location),
    });
    expect(updated.status, await updated.clone().text()).toBe(201);
    expect((await listed()).map((k) => [k.id, k.content])).toEqual([[objectId, second.keyPackageBase64]]);

    const deleted = await post(`${bob.actorId}/outbox`, bob.token, {
      "@context": MLS_CONTEXT,
      type: "Delete",
      to: "Public",
      object: location,
    });
    expect(deleted.status, await deleted.clone().text()).toBe(201);
    expect(await listed()).toEqual([]);
    expect((await get(objectId)).status).toBe(410);
  });
});
