import { cpSync } from "node:fs";
import { join } from "node:path";
import { Account, ActivityPubClient, type ReceivedItem } from "@sotto/activitypub";
import { type Envelope, readEnvelope } from "@sotto/core";
import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { type Attacker, createAttacker } from "./testing/attacker.js";
import { joined, messageOf, network, startCast, until, useWorld } from "./testing/world.js";

/** What a catch-up leaves of a conversation: its messages in order, its MLS state and its members. */
function snapshot(daemon: Daemon, conversationId: string) {
  return {
    messages: daemon
      .listMessages({ conversationId, limit: 500 })
      .messages.map((m) => ({ id: m.id, author: m.author, content: m.content, published: m.published })),
    state: Buffer.from(daemon.store.group(conversationId)?.state ?? []).toString("hex"),
    members: daemon.getConversation(conversationId).members.map((m) => m.actorId),
    held: daemon.counters.get("held"),
  };
}

/** The same PrivateMessage with its clear epoch moved `ahead` epochs on: a message this device must hold. */
function futureEpoch(bytes: Uint8Array, ahead: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  // version (2), wire format (2), then the group id as a QUIC varint-prefixed vector, then the u64 epoch.
  const prefix = 1 << ((out[4] as number) >> 6);
  const view = new DataView(out.buffer);
  let length = (out[4] as number) & 0x3f;
  for (let i = 1; i < prefix; i++) length = length * 256 + (out[4 + i] as number);
  const at = 4 + prefix + length;
  view.setBigUint64(at, view.getBigUint64(at) + BigInt(ahead));
  return out;
}

describe("decrypting a backlog ahead on a worker thread", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let carl: Daemon;
  let attacker: Attacker;
  let conversationId: string;
  const sent: string[] = [];

  beforeAll(async () => {
    const cast = await startCast(world(), ["alice", "bob", "carl"]);
    [alice, bob, carl] = cast.daemons;
    attacker = await createAttacker(cast.servers[1], "mallory");
    conversationId = (await alice.createConversation({ members: [bob.actorId] })).id;
    await joined(bob, conversationId, "bob");
  });

  const bobsServer = () =>
    new Account(new ActivityPubClient(network), bob.actorId, world().tokens.get("bob") ?? "");
  async function items(): Promise<ReceivedItem[]> {
    const all: ReceivedItem[] = [];
    for await (const item of bobsServer().catchUp()) all.push(item);
    return all;
  }
  async function send(n: number, label: string): Promise<void> {
    const before = (await items()).length;
    for (let i = 0; i < n; i++)
      sent.push((await alice.sendMessage({ conversationId, text: `${label} ${i}` })).id);
    await until("alice's outbox drained", () => alice.status().outbox.queued === 0);
    await until("bob's server has them", async () => (await items()).length >= before + n);
  }

  /** Copies bob's store (bob stopped) to a directory of its own: the same catch-up again, apart. */
  function copyOfBob(name: string): string {
    const copy = join(world().dir, name);
    cpSync(join(world().dir, "bob-data"), copy, { recursive: true });
    return copy;
  }

  /** Starts `daemon` and waits until it has every message alice sent. */
  async function catchUp(daemon: Daemon): Promise<void> {
    await daemon.start();
    await until(
      "caught up",
      () => sent.every((id) => messageOf(daemon, conversationId, id) !== undefined),
      180_000,
    );
    await until("in sync", () => daemon.status().sync.state === "idle");
  }

  /** The same catch-up from `copy` with decrypt ahead off: what the main thread alone makes of it. */
  async function alone(copy: string) {
    const daemon = await world().reopen("bob", { dataDir: copy, decryptAhead: false });
    try {
      await catchUp(daemon);
      expect(daemon.counters.get("decrypt_ahead.taken")).toBe(0);
      return snapshot(daemon, conversationId);
    } finally {
      await daemon.stop();
    }
  }

  it("gives what the main thread alone gives, over a commit, a duplicate, a held and a bad message", async () => {
    await bob.stop();
    await send(12, "first");
    const first = (await items())
      .map((item) => readEnvelope(item.activity))
      .flatMap((r) => (r.ok && r.value.kind === "private_message" ? [r.value] : []))
      .at(-5) as Envelope;
    const bad = Uint8Array.from(first.bytes);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    for (const bytes of [first.bytes, bad, futureEpoch(first.bytes, 3)])
      await attacker.send(bytes, [bob.actorId], conversationId);
    await send(12, "second");
    await alice.addMembers({ conversationId, members: [carl.actorId] });
    await joined(carl, conversationId, "carl");
    await send(12, "third");
    const copy = copyOfBob("bob-alone-1");

    bob = await world().reopen("bob", { decryptAhead: "wait" });
    await catchUp(bob);
    const ahead = snapshot(bob, conversationId);
    // The worker did the work, and the main thread did the rest (the commit, the held and the bad ones).
    expect(bob.counters.get("decrypt_ahead.taken")).toBeGreaterThan(20);
    expect(bob.counters.get("held")).toBe(1);
    expect(bob.counters.get("commit.applied")).toBe(1);
    await bob.stop();

    expect(ahead.messages.map((m) => m.id)).toEqual(sent);
    expect(ahead).toEqual(await alone(copy));
  });

  it("loses nothing when the worker dies in the middle of a catch-up", async () => {
    await send(60, "fourth");
    const copy = copyOfBob("bob-alone-2");
    bob = await world().reopen("bob", { decryptAhead: "wait" });
    // Kill the worker inside a batch once it has given results: their states live in the worker only then.
    let polling = true;
    const poll = () => {
      if (bob.store.batching && bob.counters.get("decrypt_ahead.taken") > 0) {
        if (bob.terminateDecryptAheadWorker()) polling = false;
      }
      if (polling) setImmediate(poll);
    };
    poll();
    try {
      await catchUp(bob);
    } finally {
      polling = false;
    }
    const ahead = snapshot(bob, conversationId);
    expect(bob.counters.get("decrypt_ahead.worker_lost")).toBe(1);
    // The messages taken from the worker since the last reclaim were computed again on the main thread.
    expect(bob.counters.get("decrypt_ahead.replayed")).toBeGreaterThan(0);
    await bob.stop();
    expect(ahead.messages.map((m) => m.id)).toEqual(sent);
    expect(ahead).toEqual(await alone(copy));
  });

  it("leaves the state in the store: after a restart bob sends, alice and carl read it, bob reads theirs", async () => {
    bob = await world().reopen("bob");
    await bob.start();
    const message = await bob.sendMessage({ conversationId, text: "after the catch-up" });
    await until("alice has it", () => messageOf(alice, conversationId, message.id));
    await until("carl has it", () => messageOf(carl, conversationId, message.id));
    const reply = await alice.sendMessage({ conversationId, text: "welcome back" });
    expect((await until("bob has it", () => messageOf(bob, conversationId, reply.id))).content).toBe(
      "welcome back",
    );
  });
});
