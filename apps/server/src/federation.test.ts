// Two real sotto-servers on loopback, federating: WebFinger, actors, KeyPackages, MLS delivery, owner-only reads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { barePrivateMessage, MLS_CONTEXT } from "./testkit/activities.js";
import { AP, eventually, get, getJson, openEvents, post } from "./testkit/client.js";
import { type Device, device, welcomeAndMessage } from "./testkit/mls.js";
import { startTwoServers, type TwoServers, type User } from "./testkit/servers.js";

describe("two sotto-servers federating", () => {
  let servers: TwoServers;
  let alice: User;
  let bob: User;
  let aliceDevice: Device;
  let bobDevice: Device;

  beforeAll(async () => {
    servers = await startTwoServers();
    ({ alice, bob } = servers);
    aliceDevice = await device(alice.actorId);
    bobDevice = await device(bob.actorId);
  });

  afterAll(async () => {
    await servers?.close();
  });

  let keyPackageId: string;

  it("publishes alice's KeyPackage through her outbox (Create lists it)", async () => {
    const response = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Create",
      to: "as:Public",
      object: {
        type: "KeyPackage",
        to: "as:Public",
        mediaType: "message/mls",
        encoding: "base64",
        content: aliceDevice.keyPackageBase64,
        ciphersuite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
        generator: { id: "https://client.example/sotto", type: "Application", name: "test" },
      },
    });
    expect(response.status).toBe(201);
    const location = response.headers.get("location");
    expect(location).toMatch(new RegExp(`^${alice.actorId}/activities/`));
    const created = (await response.json()) as { id: string; object: { id: string } };
    expect(created.id).toBe(location);
    keyPackageId = created.object.id;
    expect(keyPackageId.startsWith(`${alice.actorId}/objects/`)).toBe(true);
  });

  it("lets a client of bob resolve alice by WebFinger, read her actor and KeyPackages", async () => {
    const host = new URL(servers.a.origin).host;
    const jrd = await getJson(`${servers.a.origin}/.well-known/webfinger?resource=acct:alice@${host}`);
    const self = (jrd.links as { rel: string; type?: string; href: string }[]).find((l) => l.rel === "self");
    expect(self?.href).toBe(alice.actorId);

    const actor = await getJson(alice.actorId);
    expect(actor.id).toBe(alice.actorId);
    expect(actor["@context"]).toContain("https://purl.archive.org/socialweb/mls");
    expect(actor.inbox).toBe(`${alice.actorId}/inbox`);
    expect(actor.outbox).toBe(`${alice.actorId}/outbox`);
    expect(actor.keyPackages).toBe(`${alice.actorId}/keyPackages`);
    expect(actor.messages).toBe(`${alice.actorId}/messages`);
    expect((actor.endpoints as { sharedInbox: string }).sharedInbox).toBe(`${servers.a.origin}/inbox`);
    expect((actor.publicKey as { owner: string }).owner).toBe(alice.actorId);

    const collection = await getJson(actor.keyPackages as string);
    expect(collection.totalItems).toBe(1);
    const [item] = collection.items as { id: string; content: string; attributedTo: string }[];
    expect(item?.id).toBe(keyPackageId);
    expect(item?.content).toBe(aliceDevice.keyPackageBase64);
    expect(item?.attributedTo).toBe(alice.actorId);
    const byId = await getJson(keyPackageId);
    expect(byId.content).toBe(aliceDevice.keyPackageBase64);
  });

  let welcomeActivityId: string;
  let messageActivityId: string;

  it("delivers bob's Welcome and PrivateMessage to alice's messages on the other server", async () => {
    const { welcome, message } = await welcomeAndMessage(bobDevice, aliceDevice.publicPackage);
    const group = `urn:uuid:${crypto.randomUUID()}`;
    const welcomePost = await post(`${bob.actorId}/outbox`, bob.token, {
      "@context": MLS_CONTEXT,
      type: "Create",
      to: [alice.actorId],
      object: {
        type: "Welcome",
        to: [alice.actorId],
        mediaType: "message/mls",
        encoding: "base64",
        content: welcome,
        context: group,
      },
    });
    expect(welcomePost.status, await welcomePost.clone().text()).toBe(201);
    welcomeActivityId = welcomePost.headers.get("location") as string;
    // A bare object (as Bonfire posts): the server wraps it in a Create.
    const messagePost = await post(
      `${bob.actorId}/outbox`,
      bob.token,
      barePrivateMessage([alice.actorId], message, { context: group, summary: "An encrypted message" }),
    );
    expect(messagePost.status, await messagePost.clone().text()).toBe(201);
    const wrapped = (await messagePost.json()) as { type: string; actor: string; object: { type: string } };
    expect(wrapped.type).toBe("Create");
    expect(wrapped.actor).toBe(bob.actorId);
    messageActivityId = messagePost.headers.get("location") as string;

    const page = await eventually(async () => {
      const json = await getJson(`${alice.actorId}/messages?after=&limit=10`, alice.token);
      const items = json.orderedItems as { id: string; object: { content: string; encoding: string } }[];
      return items.length >= 2 ? items : undefined;
    });
    expect(page.map((i) => i.id)).toEqual([welcomeActivityId, messageActivityId]);
    // Forwarded unchanged: the MLS fields survive federation.
    expect(page[0]?.object.content).toBe(welcome);
    expect(page[1]?.object.content).toBe(message);
    expect(page[1]?.object.encoding).toBe("base64");
  });

  it("serves messages newest first and reads forward after a given item", async () => {
    const collection = await getJson(`${alice.actorId}/messages`, alice.token);
    expect(collection.type).toBe("OrderedCollection");
    expect(collection.totalItems).toBe(2);
    const first = await getJson(collection.first as string, alice.token);
    expect((first.orderedItems as { id: string }[]).map((i) => i.id)).toEqual([
      messageActivityId,
      welcomeActivityId,
    ]);
    const after = await getJson(
      `${alice.actorId}/messages?after=${encodeURIComponent(welcomeActivityId)}&limit=1`,
      alice.token,
    );
    expect((after.orderedItems as { id: string }[]).map((i) => i.id)).toEqual([messageActivityId]);
    expect(after.next).toBeUndefined();
    const paged = await getJson(`${alice.actorId}/messages?after=&limit=1`, alice.token);
    expect(paged.next).toBe(
      `${alice.actorId}/messages?after=${encodeURIComponent(welcomeActivityId)}&limit=1`,
    );
  });

  it("streams new messages to alice over Server-Sent Events, replaying after Last-Event-ID", async () => {
    const stream = await openEvents(`${alice.actorId}/messages`, alice.token, welcomeActivityId);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toBe("text/event-stream");
      const [replayed] = await stream.next(1);
      expect(replayed?.id).toBe(messageActivityId);
      const { message } = await welcomeAndMessage(bobDevice, aliceDevice.publicPackage);
      const posted = await post(
        `${bob.actorId}/outbox`,
        bob.token,
        barePrivateMessage([alice.actorId], message),
      );
      expect(posted.status).toBe(201);
      const events = await stream.next(2);
      expect(events[1]?.id).toBe(posted.headers.get("location"));
      expect((events[1]?.data as { object?: { content?: string } } | undefined)?.object?.content).toBe(
        message,
      );
      expect((await get(`${alice.actorId}/messages`, bob.token)).status).toBe(401);
    } finally {
      await stream.close();
    }
    const refused = await openEvents(`${alice.actorId}/messages`, (await servers.a.createUser("dave")).token);
    expect(refused.status).toBe(403);
    await refused.close();
  });

  it("lets nobody but alice read her messages and inbox", async () => {
    expect((await get(`${alice.actorId}/messages`)).status).toBe(401);
    expect((await get(`${alice.actorId}/messages`, "not-a-token")).status).toBe(401);
    const carol = await servers.a.createUser("carol");
    expect((await get(`${alice.actorId}/messages`, carol.token)).status).toBe(403);
    expect((await get(`${alice.actorId}/inbox`, carol.token)).status).toBe(403);
    expect((await get(`${alice.actorId}/inbox`, alice.token)).status).toBe(200);
    expect((await get(messageActivityId)).status).toBe(404);
  });

  it("refuses forged and unsigned S2S deliveries", async () => {
    const forged = {
      "@context": MLS_CONTEXT,
      id: `${bob.actorId}/activities/forged`,
      type: "Create",
      actor: bob.actorId,
      to: [alice.actorId],
      object: {
        type: "PrivateMessage",
        to: [alice.actorId],
        mediaType: "message/mls",
        encoding: "base64",
        content: "AAEAAg==",
      },
    };
    const unsigned = await fetch(`${alice.actorId}/inbox`, {
      method: "POST",
      headers: { "content-type": AP },
      body: JSON.stringify(forged),
    });
    expect(unsigned.status).toBe(401);
    const badSignature = await fetch(`${alice.actorId}/inbox`, {
      method: "POST",
      headers: {
        "content-type": AP,
        date: new Date().toUTCString(),
        signature: `keyId="${bob.actorId}#main-key",algorithm="rsa-sha256",headers="(request-target) host date",signature="${Buffer.from("forged").toString("base64")}"`,
      },
      body: JSON.stringify(forged),
    });
    expect(badSignature.status).toBe(401);
    const collection = await getJson(`${alice.actorId}/messages`, alice.token);
    expect(collection.totalItems).toBe(3);
  });

  it("removes and deletes alice's KeyPackage once she has consumed the Welcome", async () => {
    const remove = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Remove",
      to: "as:Public",
      object: keyPackageId,
      target: `${alice.actorId}/keyPackages`,
    });
    expect(remove.status).toBe(201);
    expect((await getJson(`${alice.actorId}/keyPackages`)).totalItems).toBe(0);
    const del = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Delete",
      to: "as:Public",
      object: keyPackageId,
    });
    expect(del.status).toBe(201);
    const gone = await get(keyPackageId);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { type: string }).type).toBe("Tombstone");
  });
});
