import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Account, ActivityPubClient } from "@sotto/activitypub";
import { SottoClient } from "@sotto/api";
import {
  type Conversation,
  createConversation,
  encryptMessage,
  generateDeviceIdentity,
  writeMessageCreate,
} from "@sotto/core";
import { describe, expect, it } from "vitest";
import { STORE_FILE } from "./daemon.js";
import { network, runSottod, until, useWorld } from "./testing/world.js";

/** Resident and peak resident memory of a process, in bytes (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Runs `fn` over `items`, `concurrency` at a time. */
async function inPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

// Issue 14, attack 3: a stranger's junk for unknown groups (messages a daemon holds until a Welcome that never
// comes) must neither push out a real early message nor cost the daemon memory, store or time. Bob runs as a
// real sottod process; Mallory, a stranger on Bob's server, posts through her real C2S outbox; Alice's daemon
// makes her activities, which the test posts in the order of the attack (her message before her Welcome).
describe("held messages under a stranger's flood", () => {
  const world = useWorld();

  it("1,000 junk messages cost sottod < 50 MB, 60 padded ones do not stall delivery, the early message arrives", async () => {
    const w = world();
    const [a, b] = [await w.server(), await w.server()];
    const alice = await w.daemon(a, "alice");
    const bob = await w.daemon(b, "bob");
    await alice.maintainKeyPackages();
    await bob.maintainKeyPackages();
    await bob.stop();
    const dataDir = join(w.dir, "bob-data");
    const sottod = await runSottod(w, "bob");
    const count = (event: string) => sottod.stderr().split(`"event":"${event}"`).length - 1;
    try {
      const token = readFileSync(join(dataDir, "api-token"), "utf8").trim();
      const api = await SottoClient.connect({ url: sottod.url, token, reconnect: false });
      const pid = sottod.pid;
      const storeBytes = () =>
        [STORE_FILE, `${STORE_FILE}-wal`].reduce(
          (n, f) => n + (statSync(join(dataDir, f), { throwIfNoEntry: false })?.size ?? 0),
          0,
        );

      // Alice's conversation with Bob and her first message, posted in the attack's order: the message first.
      const poster = (name: string, actorId: string) =>
        new Account(new ActivityPubClient(network), actorId, w.tokens.get(name) as string);
      const asAlice = poster("alice", alice.actorId);
      const posted = new Set<string>();
      const queued = (purpose: string) =>
        alice.store
          .outbox("queued")
          .filter(
            (item) => (item.payload as { purpose: string }).purpose === purpose && !posted.has(item.id),
          );
      const post = async (purpose: string) => {
        for (const item of queued(purpose)) {
          posted.add(item.id);
          await asAlice.post((item.payload as { activity: object }).activity);
        }
      };
      const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
      await alice.sendMessage({ conversationId, text: "the early message" });
      await post("message");

      // Mallory's junk: real MLS messages of ten groups Bob is not in.
      const mallory = await b.createUser("mallory");
      // The server takes its time over 900 kB posts on a loaded machine: a patient client.
      const asMallory = new Account(
        new ActivityPubClient({ ...network, timeoutMs: 60_000 }),
        mallory.actorId,
        mallory.token,
      );
      const device = await generateDeviceIdentity(mallory.actorId);
      const ctx = { device, fetcher: { keyPackagesOf: async () => [] }, time: new Date() };
      const groups: Conversation[] = [];
      for (let g = 0; g < 10; g++) groups.push((await createConversation(ctx, { members: [] })).conversation);
      const junk = async (g: number, plaintext: Uint8Array) => {
        const { conversation, message } = await encryptMessage(groups[g] as Conversation, plaintext);
        groups[g] = conversation;
        return writeMessageCreate({
          actor: mallory.actorId,
          recipients: [bob.actorId],
          bytes: message,
          context: conversation.groupId,
        });
      };
      const small: object[] = [];
      for (let i = 0; i < 1000; i++) small.push(await junk(i % 10, randomBytes(64)));

      // Bob's sottod has settled: its resident memory now, and its peak reset to it (Linux clear_refs 5).
      const before = memory(pid);
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
      const storeBefore = storeBytes();
      // A keep-alive socket the loaded server is closing may reset one post: junk is simply posted again.
      const postJunk = (activity: object) => asMallory.post(activity).catch(() => asMallory.post(activity));
      await inPool(small, 8, postJunk);
      await until("sottod held the junk", () => count("held") >= 1000, 180_000);
      await post("welcome");
      const arrived = (text: string) =>
        until(
          `"${text}" to arrive`,
          async () => {
            const page = await api.call("messages.list", { conversationId }).catch(() => undefined);
            return page?.messages.some((m) => m.content === text);
          },
          120_000,
        );
      await arrived("the early message");
      const after = memory(pid);
      // The junk beyond the stranger's quota was dropped, never the member's message.
      expect(count("held_dropped")).toBeGreaterThan(0);
      expect(Math.max(after.peak, after.rss) - before.rss).toBeLessThan(50 * 1024 * 1024);

      // 60 junk messages padded to ~900 kB each, then an ordinary message: it still arrives.
      const padded: object[] = [];
      for (let i = 0; i < 60; i++) padded.push(await junk(i % 10, randomBytes(640 * 1024)));
      await inPool(padded, 1, postJunk);
      await until("sottod held the padded junk", () => count("held") >= 1060, 180_000);
      await alice.sendMessage({ conversationId, text: "after the padded junk" });
      await post("message");
      await arrived("after the padded junk");
      // The store holds the stranger's quota (4 MiB), not 60 x 900 kB.
      const grown = storeBytes() - storeBefore;
      expect(grown).toBeLessThan(24 * 1024 * 1024);
      // The figures, for the record (docs/security.md).
      const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
      process.stderr.write(
        `${JSON.stringify({ rssBeforeMB: mb(before.rss), peakAfterJunkMB: mb(Math.max(after.peak, after.rss)), storeGrownMB: mb(grown), held: count("held"), dropped: count("held_dropped") })}\n`,
      );
      api.close();
    } finally {
      await sottod.stop();
    }
  }, 900_000);
});
