import type { ReceivedItem } from "@sotto/activitypub";
import {
  type ActorFetcher,
  type Conversation,
  createConversation,
  type Envelope,
  encodeConversation,
  encryptMessage,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  processMessage,
  writeMessageCreate,
} from "@sotto/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Counters } from "./counters.js";
import { DecryptAhead } from "./decryptAhead.js";
import { createLogger } from "./log.js";

// The decrypt-ahead accelerator against a real worker thread and real MLS: the main thread's side is played
// here as Inbound plays it (reach each item, take, or process it itself), with a plain cache.

const actor = (name: string) => `https://example.test/users/${name}`;
const text = (i: number) => new TextEncoder().encode(`message ${i}`);

let start: Conversation;
let groupId: string;
const items: ReceivedItem[] = [];
/** Another run of 12 from the same start, the 6th (index 5) signed with a key that is not the sender's. */
const withForgery: ReceivedItem[] = [];
const FORGED = 5;

beforeAll(async () => {
  const alice = await generateDeviceIdentity(actor("alice"));
  const bob = await generateDeviceIdentity(actor("bob"));
  const pool = await generateKeyPackages(bob, { count: 1, time: new Date() });
  const fetcher: ActorFetcher = { keyPackagesOf: async () => pool.map((p) => p.keyPackage) };
  const created = await createConversation(
    { device: alice, fetcher, time: new Date() },
    { members: [actor("bob")] },
  );
  const joined = await joinConversation(bob, created.welcome as Uint8Array, pool);
  if (!joined.ok) throw joined.error;
  start = joined.value.conversation;
  groupId = start.groupId;
  const mallory = await generateDeviceIdentity(actor("mallory"));
  for (const [list, forged] of [
    [items, -1],
    [withForgery, FORGED],
  ] as const) {
    let sender = created.conversation;
    for (let i = 0; i < 12; i++) {
      const signer =
        i === forged
          ? { ...sender, state: { ...sender.state, signaturePrivateKey: mallory.signaturePrivateKey } }
          : sender;
      const sent = await encryptMessage(signer, text(i));
      sender = {
        ...sent.conversation,
        state: { ...sent.conversation.state, signaturePrivateKey: sender.state.signaturePrivateKey },
      };
      const activity = writeMessageCreate({
        actor: actor("alice"),
        recipients: [actor("bob")],
        bytes: sent.message,
        context: groupId,
        published: new Date().toISOString(),
      });
      list.push({ id: `https://example.test/activities/${forged}/${i}`, activity });
    }
  }
});

/** The state after these messages, processed one by one on this thread. */
async function bare(indexes: readonly number[], list = items): Promise<string> {
  let conversation = start;
  for (const i of indexes) {
    const result = await processMessage(conversation, { bytes: bytesOf(i, list) });
    if (!result.ok) throw result.error;
    conversation = result.value.conversation;
  }
  return hex(conversation);
}

function bytesOf(i: number, list: readonly ReceivedItem[]): Uint8Array {
  const { activity } = list[i] as ReceivedItem;
  const content = (activity as { object: { content: string } }).object.content;
  return new Uint8Array(Buffer.from(content, "base64"));
}

const hex = (conversation: Conversation) => Buffer.from(encodeConversation(conversation)).toString("hex");

describe("decrypt ahead", () => {
  let cache: Conversation;
  let counters: Counters;
  let ahead: DecryptAhead;
  const logger = createLogger({ level: "error", write: () => {} });

  /** A DecryptAhead fed every item; `loaded`: once its worker is loaded (else it may still be loading). */
  async function open(loaded = true, list = items): Promise<DecryptAhead> {
    cache = start;
    counters = new Counters();
    ahead = new DecryptAhead({
      cached: (id) => (id === groupId ? cache : undefined),
      replace: (id, conversation) => {
        if (id === groupId) cache = conversation;
      },
      counters,
      log: logger,
    });
    for (const item of list) ahead.feed(item);
    if (loaded) expect(await ahead.ready()).toBe(true);
    return ahead;
  }

  afterEach(() => ahead.close());

  /**
   * Reaches item `i` and applies it as Inbound does: the worker's result, or processMessage here (which may
   * refuse it: the state stays).
   */
  async function apply(i: number, list = items): Promise<"worker" | "main" | "refused"> {
    const read = ahead.reach(list[i] as ReceivedItem);
    if (!read?.ok) throw new Error("not fed");
    const envelope: Envelope = read.value;
    const early = await ahead.take(groupId, envelope, cache, true);
    if (early !== undefined) {
      expect(early.data).toEqual(text(i));
      // Posted in a buffer of its own, not as a view into the worker's decoded state (copied whole).
      const key = early.sender.signaturePublicKey;
      expect(key.buffer.byteLength).toBe(key.byteLength);
      ahead.applied(groupId);
      return "worker";
    }
    const result = await processMessage(cache, { bytes: envelope.bytes, message: envelope.message });
    if (!result.ok) return "refused";
    cache = result.value.conversation;
    return "main";
  }

  it("keeps out of the state a forged signature the worker left to the main thread to verify", async () => {
    await open(true, withForgery);
    const by: string[] = [];
    for (let i = 0; i < 12; i++) by.push(await apply(i, withForgery));
    // The worker is never further ahead than LEAD here: it leaves every signature to the main thread.
    expect(by.slice(0, FORGED)).toEqual(Array(FORGED).fill("worker"));
    expect(by[FORGED]).toBe("refused");
    expect(counters.get("decrypt_ahead.signature_refused")).toBe(1);
    expect(counters.get("decrypt_ahead.verified_here")).toBe(FORGED + 1);
    await ahead.settleAll();
    const genuine = [...Array(12).keys()].filter((i) => i !== FORGED);
    expect(hex(cache)).toBe(await bare(genuine, withForgery));
  });

  it("takes the worker's results in order and reclaims the state the main thread would have had", async () => {
    await open();
    const by: string[] = [];
    for (let i = 0; i < 12; i++) by.push(await apply(i));
    expect(by.every((b) => b === "worker")).toBe(true);
    expect(counters.get("decrypt_ahead.signature_refused")).toBe(0);
    // Stale until the group is settled, as at the end of a batch.
    expect(hex(cache)).toBe(hex(start));
    await ahead.settleAll();
    expect(hex(cache)).toBe(await bare([...Array(12).keys()]));
  });

  it("does the first messages itself while the worker loads, then takes its results", async () => {
    await open(false);
    // Fed a backlog, the worker is loading: nothing waits for it.
    expect(counters.get("decrypt_ahead.workers")).toBe(1);
    expect(await apply(0)).toBe("main");
    expect(await ahead.ready()).toBe(true);
    const by: string[] = [];
    for (let i = 1; i < 12; i++) by.push(await apply(i));
    expect(by.every((b) => b === "worker")).toBe(true);
    await ahead.settleAll();
    expect(hex(cache)).toBe(await bare([...Array(12).keys()]));
  });

  it("ends the chain when the main thread passes over a message the worker applied", async () => {
    await open();
    for (let i = 0; i < 5; i++) expect(await apply(i)).toBe("worker");
    // Item 5 is reached and not applied (as a duplicate activity would be): the worker's state after 6
    // includes 5, the main thread's does not.
    ahead.reach(items[5] as ReceivedItem);
    expect(await apply(6)).toBe("main");
    await ahead.settleAll();
    expect(hex(cache)).toBe(await bare([0, 1, 2, 3, 4, 6]));
  });

  it("keeps out of the state a message taken from the worker that the main thread did not apply", async () => {
    await open();
    for (let i = 0; i < 3; i++) expect(await apply(i)).toBe("worker");
    // Item 3's result is taken, and its unit fails (nothing says `applied`).
    const read = ahead.reach(items[3] as ReceivedItem);
    if (!read?.ok) throw new Error("not fed");
    expect(await ahead.take(groupId, read.value, cache, true)).toBeDefined();
    expect(await apply(4)).toBe("main");
    await ahead.settleAll();
    expect(hex(cache)).toBe(await bare([0, 1, 2, 4]));
  });

  it("takes nothing for a state that is not the one the chain started from", async () => {
    await open();
    expect(await apply(0)).toBe("worker");
    await ahead.settleAll();
    // The main thread's state was replaced by something else meanwhile (e.g. a failed batch reloaded it).
    const read = ahead.reach(items[1] as ReceivedItem);
    if (!read?.ok) throw new Error("not fed");
    const other = { ...cache };
    expect(await ahead.take(groupId, read.value, other, true)).toBeUndefined();
  });

  it("ends an idle worker, which exits on its own, and loses nothing it was fed", async () => {
    await open();
    for (let i = 0; i < 6; i++) expect(await apply(i)).toBe("worker");
    await ahead.settleAll();
    // Nothing fed or taken for 3 s: told to end, the worker gives its heap back and exits (code 0).
    const until = Date.now() + 20_000;
    while (counters.get("decrypt_ahead.ended") === 0 && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(counters.get("decrypt_ahead.ended")).toBe(1);
    expect(counters.get("decrypt_ahead.worker_lost")).toBe(0);
    expect(ahead.terminateWorker()).toBe(false);
    for (let i = 6; i < 12; i++) await apply(i);
    await ahead.settleAll();
    expect(hex(cache)).toBe(await bare([...Array(12).keys()]));
  }, 60_000);

  it("replays on the main thread what a lost worker held, and goes on without it", async () => {
    await open();
    for (let i = 0; i < 4; i++) expect(await apply(i)).toBe("worker");
    expect(ahead.terminateWorker()).toBe(true);
    for (let i = 4; i < 12; i++) await apply(i);
    await ahead.settleAll();
    expect(counters.get("decrypt_ahead.replayed")).toBeGreaterThan(0);
    expect(hex(cache)).toBe(await bare([...Array(12).keys()]));
  });
});
