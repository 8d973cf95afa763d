import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "./daemon.js";
import { createdCounts, joined, messageOf, runSottod, startCast, until, useWorld } from "./testing/world.js";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("stopping, restarting and killing a daemon", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let conversationId: string;

  beforeAll(async () => {
    [alice, bob] = (await startCast(world(), ["alice", "bob"])).daemons;
    conversationId = (await alice.createConversation({ members: [bob.actorId] })).id;
    await joined(bob, conversationId, "bob");
  });

  it("catches up after a stop, with nothing lost or doubled", async () => {
    await bob.stop();
    const sent = [];
    for (let i = 0; i < 30; i++)
      sent.push(await alice.sendMessage({ conversationId, text: `while away ${i}` }));
    await until("alice's outbox drained", () => alice.status().outbox.queued === 0);

    bob = await world().reopen("bob");
    await bob.start();
    for (const m of sent) await until("bob caught up", () => messageOf(bob, conversationId, m.id));
    expect(
      bob
        .listMessages({ conversationId, limit: 500 })
        .messages.filter((m) => m.content.startsWith("while away")),
    ).toHaveLength(30);
    for (const [, n] of createdCounts(bob)) expect(n).toBe(1);
    // Paging back in small pages (messages sent in a burst share milliseconds) sees each message once.
    const all = bob.listMessages({ conversationId, limit: 500 }).messages.map((m) => m.id);
    const paged: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = bob.listMessages({ conversationId, limit: 3, ...(before ? { before } : {}) });
      paged.unshift(...page.messages.map((m) => m.id));
      if (page.before === null) break;
      before = page.before;
    }
    expect(paged).toEqual(all);
  });

  it("resumes correctly after SIGKILL in the middle of a sync", async () => {
    await bob.stop();
    const sottod = await runSottod(world(), "bob", ["--no-api"]);
    const applied = () => sottod.stderr().split('"event":"applied"').length - 1;
    try {
      const sent = [];
      for (let i = 0; i < 150; i++)
        sent.push(await alice.sendMessage({ conversationId, text: `burst ${i}` }));
      await until("bob's daemon is part way through", () => applied() >= 10, 60_000);
      await sottod.stop("SIGKILL");
      expect(applied()).toBeLessThan(150);

      bob = await world().reopen("bob");
      await bob.start();
      for (const m of sent)
        await until("bob has every message", () => messageOf(bob, conversationId, m.id), 60_000);
      for (const [, n] of createdCounts(bob)) expect(n).toBe(1);
      // The conversation still works both ways after the crash.
      const after = await bob.sendMessage({ conversationId, text: "back" });
      await until("alice hears bob", () => messageOf(alice, conversationId, after.id));
    } finally {
      await sottod.stop("SIGKILL");
    }
  });

  it("leaves no plaintext in the servers' stored data", async () => {
    const marker = "plaintext-canary-4711";
    const m = await alice.sendMessage({ conversationId, text: marker });
    await until("bob has the canary", () => messageOf(bob, conversationId, m.id));
    const serverFiles = world().servers.flatMap((_, i) => filesUnder(join(world().dir, `server-${i}`)));
    expect(serverFiles.length).toBeGreaterThan(0);
    for (const file of serverFiles) {
      const bytes = readFileSync(file);
      for (const text of [marker, "while away", "burst 1"]) expect(bytes.includes(text)).toBe(false);
    }
    // The daemons' own stores are encrypted too.
    for (const file of filesUnder(join(world().dir, "bob-data")))
      expect(readFileSync(file).includes(marker)).toBe(false);
  });
});
