// What Bonfire's and Emissary's clients post (spec/peers-on-the-wire.md), through two real servers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MLS_CONTEXT } from "./testkit/activities.js";
import { eventually, getJson, post } from "./testkit/client.js";
import { type Device, device, welcomeAndMessage } from "./testkit/mls.js";
import { startTwoServers, type TwoServers, type User } from "./testkit/servers.js";

describe("peers' shapes on sotto-server", () => {
  let servers: TwoServers;
  let alice: User;
  let bob: User;
  let aliceDevice: Device;

  beforeAll(async () => {
    servers = await startTwoServers();
    ({ alice, bob } = servers);
    aliceDevice = await device(alice.actorId);
  });

  afterAll(async () => {
    await servers?.close();
  });

  const keyPackages = async () =>
    (await getJson(`${alice.actorId}/keyPackages`)).items as { id: string; content: string; type: unknown }[];

  it("takes Bonfire's Add of an embedded, mls:-prefixed KeyPackage and its Remove by content", async () => {
    const other = await device(alice.actorId);
    const added = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Add",
      to: ["as:Public"],
      object: {
        type: ["Object", "mls:KeyPackage"],
        "mls:mediaType": "message/mls",
        "mls:encoding": "base64",
        "mls:content": other.keyPackageBase64,
      },
      target: `${alice.actorId}/keyPackages`,
    });
    expect(added.status, await added.clone().text()).toBe(201);
    const [listed] = await keyPackages();
    expect(listed?.content).toBe(other.keyPackageBase64);
    expect(listed?.type).toEqual(["Object", "KeyPackage"]);
    const removed = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Remove",
      object: { type: "mls:KeyPackage", "mls:content": other.keyPackageBase64 },
      target: `${alice.actorId}/keyPackages`,
    });
    expect(removed.status, await removed.clone().text()).toBe(201);
    expect(await keyPackages()).toEqual([]);
  });

  it("takes Emissary's Create then Update of the same KeyPackage in place", async () => {
    const first = await device(alice.actorId);
    const created = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Create",
      to: "Public",
      object: {
        type: "KeyPackage",
        to: "Public",
        mediaType: "message/mls",
        encoding: "base64",
        content: first.keyPackageBase64,
      },
    });
    expect(created.status).toBe(201);
    const { object } = (await created.json()) as { object: { id: string } };
    const updated = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Update",
      to: "Public",
      object: {
        id: object.id,
        type: "KeyPackage",
        to: "Public",
        mediaType: "message/mls",
        encoding: "base64",
        content: aliceDevice.keyPackageBase64,
      },
    });
    expect(updated.status, await updated.clone().text()).toBe(201);
    expect((await keyPackages()).map((k) => [k.id, k.content])).toEqual([
      [object.id, aliceDevice.keyPackageBase64],
    ]);
  });

  it("delivers Bonfire's bare, mls:-prefixed PrivateMessage in plain terms", async () => {
    const { message } = await welcomeAndMessage(await device(bob.actorId), aliceDevice.publicPackage);
    const posted = await post(`${bob.actorId}/outbox`, bob.token, {
      "@context": MLS_CONTEXT,
      type: "mls:PrivateMessage",
      to: [alice.actorId],
      "mls:mediaType": "message/mls",
      "mls:encoding": "base64",
      "mls:content": message,
      summary: "An encrypted message",
    });
    expect(posted.status, await posted.clone().text()).toBe(201);
    const [received] = await eventually(async () => {
      const page = await getJson(`${alice.actorId}/messages?after=`, alice.token);
      const items = page.orderedItems as { object: { type: string; content: string; encoding: string } }[];
      return items.length > 0 ? items : undefined;
    });
    expect(received?.object).toMatchObject({ type: "PrivateMessage", content: message, encoding: "base64" });
  });

  it("delivers to bcc recipients without showing them the bcc", async () => {
    const { message } = await welcomeAndMessage(await device(bob.actorId), aliceDevice.publicPackage);
    const posted = await post(`${bob.actorId}/outbox`, bob.token, {
      "@context": MLS_CONTEXT,
      type: "Create",
      bcc: [alice.actorId],
      object: {
        type: "PrivateMessage",
        bcc: [alice.actorId],
        mediaType: "message/mls",
        encoding: "base64",
        content: message,
      },
    });
    expect(posted.status, await posted.clone().text()).toBe(201);
    const id = posted.headers.get("location");
    const received = await eventually(async () => {
      const page = await getJson(`${alice.actorId}/messages?after=`, alice.token);
      return (page.orderedItems as Record<string, unknown>[]).find((item) => item.id === id);
    });
    expect(received.bcc).toBeUndefined();
    expect((received.object as Record<string, unknown>).bcc).toBeUndefined();
    // The sender's own copy keeps its bcc.
    const own = await getJson(id as string, bob.token);
    expect(own.bcc).toEqual([alice.actorId]);
  });
});
