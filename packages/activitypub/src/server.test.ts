import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConversation, encryptMessage, generateDeviceIdentity, writeMessageCreate } from "@sotto/core";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Account, type ReceivedItem } from "./account.js";
import { ActivityPubClient } from "./client.js";

// The client against a real sotto-server on loopback (contract 3 of the team's contracts).
describe("against a real sotto-server", () => {
  let dir: string;
  let server: SottoServer;
  let alice: { actorId: string; token: string };
  let bob: { actorId: string; token: string };
  const client = new ActivityPubClient({
    allowPrivateAddress: true,
    plainHttpWebFinger: true,
    retry: { baseDelayMs: 5 },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sotto-ap-"));
    server = await startServer({ dataDir: dir });
    alice = await server.createUser("alice");
    bob = await server.createUser("bob");
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resolves a handle by WebFinger and reads the actor with its MLS endpoints", async () => {
    expect(await client.resolve(`@alice@${server.domain}`)).toBe(alice.actorId);
    const actor = await client.getActor(`@bob@${server.domain}`);
    expect(actor.id).toBe(bob.actorId);
    expect(actor.messages).toBeDefined();
    expect(actor.outbox).toBeDefined();
    expect(actor.raw.keyPackages ?? actor.raw["mls:keyPackages"]).toBeDefined();
    await expect(client.resolve(`@nobody@${server.domain}`)).rejects.toMatchObject({ code: "not_found" });
  });

  it("refuses a wrong token, for posting and for reading messages", async () => {
    const intruder = new Account(client, bob.actorId, "not-the-token");
    await expect(intruder.post({ type: "Note", content: "hi", to: [alice.actorId] })).rejects.toMatchObject({
      code: "unauthorized",
    });
    await expect(intruder.page()).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("posts MLS messages to the outbox; the recipient follows them live over SSE and catches up from a cursor", async () => {
    // Real MLS bytes (the server checks them): PrivateMessages of a group of one, addressed to Bob.
    const device = await generateDeviceIdentity(alice.actorId);
    const ctx = { device, fetcher: { keyPackagesOf: async () => [] }, time: new Date() };
    let { conversation } = await createConversation(ctx, { members: [] });
    const activities = [];
    for (let i = 0; i < 3; i++) {
      const sealed = await encryptMessage(conversation, new TextEncoder().encode(`{"n":${i}}`));
      conversation = sealed.conversation;
      activities.push(
        writeMessageCreate({
          actor: alice.actorId,
          recipients: [bob.actorId],
          bytes: sealed.message,
          context: conversation.groupId,
        }),
      );
    }
    const receiver = new Account(client, bob.actorId, bob.token);
    const sender = new Account(client, alice.actorId, alice.token);
    const controller = new AbortController();
    const modes: string[] = [];
    const seen: ReceivedItem[] = [];
    const following = (async () => {
      for await (const item of receiver.follow({ signal: controller.signal, onMode: (m) => modes.push(m) })) {
        seen.push(item);
      }
    })();
    // Posted once the stream is open, so they arrive live.
    const deadline = Date.now() + 10_000;
    while (!modes.includes("stream") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const posted = [];
    for (const activity of activities) posted.push(await sender.post(activity));
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await following;
    expect(modes.slice(0, 2)).toEqual(["catch_up", "stream"]);
    expect(seen.map((s) => s.id)).toEqual(posted.map((p) => p.id));
    const rest: (string | undefined)[] = [];
    for await (const item of receiver.catchUp({ after: seen[0]?.id })) rest.push(item.id);
    expect(rest).toEqual(posted.slice(1).map((p) => p.id));
  });
});
