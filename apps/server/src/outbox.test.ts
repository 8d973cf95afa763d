// When a post's deliveries are queued relative to the post's commit, seen from a second connection to the
// SQLite file (it sees only what is committed). Real store, queue, federation and signing key; the queue is not
// started, so nothing is delivered.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Person } from "@fedify/vocab";
import { ActivityFeed } from "@sotto/fedify";
import { afterEach, describe, expect, it } from "vitest";
import { openBackend, SQLITE_FILE } from "./backend.js";
import { buildFederation, deliveryHandoff } from "./federation.js";
import { type OutboxDeps, postToOutbox } from "./outbox.js";
import { makePaths } from "./paths.js";
import { DrainableQueue } from "./queue.js";
import { Users } from "./users.js";

const ORIGIN = "http://127.0.0.1:9";
const BOB = "https://bob.example/users/bob";

describe("a post and the hand-off of its deliveries", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Posts a note from alice to a remote actor; what was committed when the hand-off began, and after. */
  async function post(sharedCommits: boolean) {
    const dataDir = mkdtempSync(join(tmpdir(), "sotto-outbox-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const backend = await openBackend({ dataDir });
    cleanups.push(() => backend.close());
    const users = new Users(backend.store.accounts);
    await users.add("alice");
    const paths = makePaths(ORIGIN);
    const queue = new DrainableQueue(backend.queue);
    const federation = buildFederation({
      kv: backend.kv,
      queue,
      users,
      paths,
      domain: new URL(ORIGIN).host,
      allowPrivateAddress: true,
    });
    const handoff = deliveryHandoff(federation, ORIGIN, users, queue);
    const reader = new DatabaseSync(join(dataDir, SQLITE_FILE), { readOnly: true });
    cleanups.push(() => reader.close());
    const committed = () => ({
      posts: (reader.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n,
      queued: (reader.prepare("SELECT count(*) AS n FROM delivery_queue").get() as { n: number }).n,
    });
    const atHandoff: ReturnType<typeof committed>[] = [];
    const deps: OutboxDeps = {
      paths,
      userExists: (name) => users.exists(name),
      store: backend.store,
      logs: {
        followed: false,
        inbox: backend.store.inbox,
        inboxFeed: new ActivityFeed(),
        messages: backend.store.messages,
        messagesFeed: new ActivityFeed(),
        appendReceived: (owner, id, activity, mls) => backend.store.receive(owner, id, activity, mls),
      },
      resolve: async () => ({
        kind: "actor",
        recipient: new Person({ id: new URL(BOB), inbox: new URL(`${BOB}/inbox`) }),
        sequenced: true,
      }),
      handoff: async (name) => {
        const send = await handoff(name);
        return (activity, recipients) => {
          atHandoff.push(committed());
          return send(activity, recipients);
        };
      },
      sharedCommits,
    };
    const result = await postToOutbox(deps, "alice", { type: "Note", to: [BOB], content: "hello" });
    expect(result.ok).toBe(true);
    return { atHandoff, after: committed() };
  }

  it("with shared commits, queues the deliveries before the post is committed: one transaction for both", async () => {
    const { atHandoff, after } = await post(true);
    expect(atHandoff).toEqual([{ posts: 0, queued: 0 }]);
    expect(after).toEqual({ posts: 1, queued: 1 });
  });

  it("without them (MariaDB), queues the deliveries only once the post is committed", async () => {
    const { atHandoff, after } = await post(false);
    expect(atHandoff).toEqual([{ posts: 1, queued: 0 }]);
    expect(after).toEqual({ posts: 1, queued: 1 });
  });
});
