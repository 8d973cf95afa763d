// Bad input on every door: a 4xx JSON error, nothing stored, and the server keeps serving.
import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBackend } from "./backend.js";
import { MLS_CONTEXT } from "./testkit/activities.js";
import { AP, eventually, getJson, openEvents, post } from "./testkit/client.js";
import { type Device, device, welcomeAndMessage } from "./testkit/mls.js";
import { startTwoServers, type TwoServers, type User } from "./testkit/servers.js";
import { Users } from "./users.js";

describe("sotto-server refusing bad input", () => {
  let servers: TwoServers;
  let alice: User;
  let bob: User;
  let aliceDevice: Device;
  let bobDevice: Device;
  let message: string;

  beforeAll(async () => {
    servers = await startTwoServers({ bodyLimit: 16 * 1024, sseStreamsPerUser: 2 });
    ({ alice, bob } = servers);
    aliceDevice = await device(alice.actorId);
    bobDevice = await device(bob.actorId);
    message = (await welcomeAndMessage(bobDevice, aliceDevice.publicPackage)).message;
  });

  afterAll(async () => {
    await servers?.close();
  });

  const outboxSize = async () => (await getJson(`${alice.actorId}/outbox`, alice.token)).totalItems;
  const privateMessage = (to: unknown) => ({
    "@context": MLS_CONTEXT,
    type: "Create",
    to,
    object: { type: "PrivateMessage", to, mediaType: "message/mls", encoding: "base64", content: message },
  });

  const refusals: [string, () => unknown, number, string][] = [
    ["malformed JSON", () => "{ not json", 400, "malformed_json"],
    ["a body that is not an object", () => [1, 2], 400, "invalid_activity"],
    [
      "an unsupported activity type",
      () => ({ type: "Follow", object: "https://example.com/x" }),
      400,
      "unsupported_activity",
    ],
    [
      "an activity of another actor",
      () => ({ type: "Create", actor: "https://evil.example/u", object: { type: "Note" } }),
      403,
      "not_owner",
    ],
    [
      "an MLS message to Public",
      () => privateMessage(["https://www.w3.org/ns/activitystreams#Public"]),
      400,
      "addressed_to_public",
    ],
    ["an MLS message to as:Public", () => privateMessage("as:Public"), 400, "addressed_to_public"],
    [
      "an MLS message to a local collection",
      () => privateMessage([`${alice.actorId}/followers`]),
      400,
      "addressed_to_collection",
    ],
    [
      "an MLS message to a remote collection",
      () => privateMessage([`${bob.actorId}/keyPackages`]),
      400,
      "addressed_to_collection",
    ],
    ["an MLS message to nobody", () => privateMessage([]), 400, "no_recipients"],
    [
      "MLS content that does not decode",
      () => ({
        ...privateMessage([bob.actorId]),
        object: {
          type: "PrivateMessage",
          to: [bob.actorId],
          mediaType: "message/mls",
          encoding: "base64",
          content: "bm90IE1MUw==",
        },
      }),
      400,
      "invalid_mls_object",
    ],
    [
      "a KeyPackage owned by another actor",
      () => ({
        "@context": MLS_CONTEXT,
        type: "Create",
        to: "as:Public",
        object: {
          type: "KeyPackage",
          attributedTo: bob.actorId,
          mediaType: "message/mls",
          encoding: "base64",
          content: aliceDevice.keyPackageBase64,
        },
      }),
      403,
      "not_owner",
    ],
    [
      "a KeyPackage whose credential names another actor",
      () => ({
        "@context": MLS_CONTEXT,
        type: "KeyPackage",
        to: "as:Public",
        mediaType: "message/mls",
        encoding: "base64",
        content: bobDevice.keyPackageBase64,
      }),
      403,
      "credential_mismatch",
    ],
    [
      "JSON nested deeper than anyone needs",
      () => `${"[".repeat(5_000)}${"]".repeat(5_000)}`,
      400,
      "malformed_json",
    ],
    [
      "an object nested deeper than anyone needs",
      () => ({
        type: "Note",
        content: "x",
        tag: JSON.parse(`${'{"a":'.repeat(1_000)}1${"}".repeat(1_000)}`),
      }),
      400,
      "malformed_json",
    ],
    [
      "a body over the size limit",
      () => ({ type: "Note", content: "x".repeat(32 * 1024) }),
      413,
      "body_too_large",
    ],
  ];

  it.each(refusals)("refuses %s with a JSON error and stores nothing", async (_name, body, status, code) => {
    const before = await outboxSize();
    const response = await post(`${alice.actorId}/outbox`, alice.token, body());
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/json");
    const error = (await response.json()) as { error: string; message: string };
    expect(error.error).toBe(code);
    expect(typeof error.message).toBe("string");
    expect(await outboxSize()).toBe(before);
    expect((await getJson(`${alice.actorId}/keyPackages`)).totalItems).toBe(0);
  });

  it("refuses outbox posts without the owner's token", async () => {
    expect((await post(`${alice.actorId}/outbox`, undefined, privateMessage([bob.actorId]))).status).toBe(
      401,
    );
    expect((await post(`${alice.actorId}/outbox`, bob.token, privateMessage([bob.actorId]))).status).toBe(
      401,
    );
    expect(await outboxSize()).toBe(0);
  });

  it("keeps serving after all that", async () => {
    const response = await post(`${alice.actorId}/outbox`, alice.token, privateMessage([bob.actorId]));
    expect(response.status).toBe(201);
    expect(await outboxSize()).toBe(1);
  });

  it("accepts ordinary Fediverse traffic into the inbox but not into messages", async () => {
    const note = await post(`${bob.actorId}/outbox`, bob.token, {
      type: "Note",
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      cc: [alice.actorId],
      content: "hello, fediverse",
    });
    expect(note.status).toBe(201);
    // A Follow, signed with bob's own key as a Mastodon-like server would.
    const backend = await openBackend(servers.storage[1]);
    const [rsa] = await new Users(backend.store.accounts).keyPairs("bob");
    await backend.close();
    if (rsa === undefined) throw new Error("bob has no key pair");
    const follow = {
      "@context": MLS_CONTEXT[0],
      id: `${bob.actorId}#follow-1`,
      type: "Follow",
      actor: bob.actorId,
      object: alice.actorId,
    };
    const request = await signRequest(
      new Request(`${alice.actorId}/inbox`, {
        method: "POST",
        headers: { "content-type": AP },
        body: JSON.stringify(follow),
      }),
      rsa.privateKey,
      new URL(`${bob.actorId}#main-key`),
    );
    const followed = await fetch(request);
    expect(followed.status).toBe(202);
    const inbox = await eventually(async () => {
      const page = await getJson(`${alice.actorId}/inbox?after=`, alice.token);
      const items = page.orderedItems as { type: string }[];
      return items.length >= 2 ? items : undefined;
    });
    expect(inbox.map((i) => i.type).sort()).toEqual(["Create", "Follow"]);
    expect((await getJson(`${alice.actorId}/messages`, alice.token)).totalItems).toBe(0);
  });

  it("caps the event streams one user holds open, and frees a slot when one closes", async () => {
    const messages = `${alice.actorId}/messages`;
    const open = [await openEvents(messages, alice.token), await openEvents(messages, alice.token)];
    try {
      expect(open.map((s) => s.status)).toEqual([200, 200]);
      const refused = await fetch(messages, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${alice.token}` },
      });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: string }).error).toBe("too_many_streams");
      // Another user is not affected.
      const other = await openEvents(`${bob.actorId}/messages`, bob.token);
      expect(other.status).toBe(200);
      await other.close();
      await open.pop()?.close();
      const again = await eventually(async () => {
        const stream = await openEvents(messages, alice.token);
        if (stream.status === 200) return stream;
        await stream.close();
        return undefined;
      });
      open.push(again);
    } finally {
      for (const stream of open) await stream.close();
    }
  });
});
