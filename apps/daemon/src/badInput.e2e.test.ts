import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Account, ActivityPubClient } from "@sotto/activitypub";
import {
  createConversation,
  encryptMessage,
  epochOf,
  generateDeviceIdentity,
  updateConversation,
  writeMessageCreate,
} from "@sotto/core";
import { describe, expect, it } from "vitest";
import { Daemon } from "./daemon.js";
import { joined, messageOf, network, startCast, until, useWorld } from "./testing/world.js";

// Bad input from the network is logged, counted and skipped (or retried); the daemon keeps running and in sync.
describe("bad input from the network", () => {
  const world = useWorld();

  it("skips malformed envelopes, bogus MLS and messages from non-members, and stays in sync", async () => {
    const {
      servers: [_a, b],
      daemons: [alice, bob],
    } = await startCast(world(), ["alice", "bob"]);
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, conversationId, "bob");

    // Mallory, on Bob's server, posts through her real C2S outbox to Bob.
    const mallory = await b.createUser("mallory");
    const post = new Account(new ActivityPubClient(network), mallory.actorId, mallory.token);
    const junk: object[] = [
      { type: "Create", to: [bob.actorId], object: { type: "Note", content: "not MLS at all" } },
      {
        type: "Create",
        to: [bob.actorId],
        object: {
          type: "PrivateMessage",
          mediaType: "message/mls",
          encoding: "base64",
          content: "AAEC",
          context: conversationId,
        },
      },
    ];
    // A real MLS message in a group that claims Bob's conversation id, from a device that is not a member.
    const device = await generateDeviceIdentity(mallory.actorId);
    const ctx = { device, fetcher: { keyPackagesOf: async () => [] }, time: new Date() };
    let forged = (await createConversation(ctx, { members: [], groupId: conversationId })).conversation;
    while (epochOf(forged) < BigInt(bob.getConversation(conversationId).epoch)) {
      forged = (await updateConversation(ctx, forged)).conversation;
    }
    const { message } = await encryptMessage(
      forged,
      new TextEncoder().encode('{"type":"Note","content":"forged"}'),
    );
    junk.push(
      writeMessageCreate({
        actor: mallory.actorId,
        recipients: [bob.actorId],
        bytes: message,
        context: conversationId,
      }),
    );
    let accepted = 0;
    for (const activity of junk) {
      // The server may refuse some of it itself (it validates MLS objects); what it accepts reaches Bob.
      await post.post(activity).then(
        () => accepted++,
        () => {},
      );
    }
    expect(accepted).toBeGreaterThanOrEqual(1);

    const good = await alice.sendMessage({ conversationId, text: "still fine?" });
    await until("bob got the good message after the junk", () => messageOf(bob, conversationId, good.id));
    const counts = bob.counters.snapshot();
    const skipped = Object.entries(counts)
      .filter(([name]) => name.startsWith("skipped."))
      .reduce((n, [, v]) => n + v, 0);
    // The server stores the plain Note in the inbox only; the forged MLS message reaches Bob's messages and
    // is refused by MLS (the sender holds no key of Bob's group), never stored.
    expect(Object.keys(counts).some((name) => name.startsWith("skipped.mls."))).toBe(true);
    expect(skipped).toBeGreaterThanOrEqual(1);
    expect(bob.listMessages({ conversationId }).messages.map((m) => m.content)).not.toContain("forged");
    expect(world().logLines.some((l) => l.includes('"event":"skipped"'))).toBe(true);
  });

  it("retries a home server that answers 500s and garbage, then syncs what it serves", async () => {
    // A misbehaving home server: real HTTP on loopback, answering the daemon's reads with failures first.
    let messagesCalls = 0;
    let origin = "";
    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", origin);
      const json = (body: unknown, status = 200) =>
        res.writeHead(status, { "content-type": "application/activity+json" }).end(JSON.stringify(body));
      if (url.pathname === "/users/dora") {
        return json({
          id: `${origin}/users/dora`,
          type: "Person",
          preferredUsername: "dora",
          inbox: `${origin}/users/dora/inbox`,
          outbox: `${origin}/users/dora/outbox`,
          messages: `${origin}/users/dora/messages`,
          keyPackages: `${origin}/users/dora/keyPackages`,
        });
      }
      if (url.pathname === "/users/dora/messages") {
        if (req.headers.accept === "text/event-stream") return json({ error: "no_stream" }, 406);
        messagesCalls++;
        if (messagesCalls === 1) return json({ type: "OrderedCollectionPage", orderedItems: [] }); // init's token check
        if (messagesCalls <= 3) return json({ error: "boom" }, 500);
        if (messagesCalls === 4) return res.writeHead(200).end("<html>oops");
        return json({
          type: "OrderedCollectionPage",
          orderedItems: [
            { id: `${origin}/a/1`, type: "Create", object: "garbage" },
            { id: `${origin}/a/2`, type: "Create", object: { type: "PrivateMessage", content: "!!!" } },
          ],
        });
      }
      json({ error: "nope" }, 503);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let dora: Daemon | undefined;
    try {
      dora = await Daemon.init({
        dataDir: join(world().dir, "dora-data"),
        key: { passphrase: "correct horse battery staple" },
        argon2id: { memory: 1024, passes: 1, parallelism: 1 },
        actor: `${origin}/users/dora`,
        token: "t",
        network,
        pollIntervalMs: 50,
        logger: world().logger,
      });
      await dora.start();
      const d = dora;
      await until(
        "dora skipped the served garbage",
        () => d.counters.get("skipped.envelope.not_an_object") + d.counters.get("received") >= 2,
      );
      const counts = d.counters.snapshot();
      // The 500s were retried inside the request; the garbage 200 surfaced as invalid_response and was retried.
      expect(messagesCalls).toBeGreaterThanOrEqual(5);
      expect(counts["sync.error.invalid_response"]).toBeGreaterThanOrEqual(1);
      expect(d.running).toBe(true);
      expect(d.store.isProcessed(`${origin}/a/2`)).toBe(true);
      expect(d.store.cursor("received")).toBe(`${origin}/a/2`);
    } finally {
      await dora?.stop();
      await new Promise((r) => server.close(r));
    }
  });
});
