import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HeldItem, HeldLimits } from "./records.js";
import { openStore, type Store } from "./store.js";
import { tempDir, writeKeyFile } from "./test-support.js";

const LIMITS: HeldLimits = {
  perConversation: 5,
  perSender: 4,
  perSenderBytes: 4000,
  total: 10,
  totalBytes: 6000,
  maxAgeMs: 60_000,
};

let n = 0;
/** A held item; `pad` bytes of padding in its activity. */
function item(sender: string, conversation: string, rank = 0, pad = 0): HeldItem {
  n += 1;
  return { id: `a${n}`, conversation, epoch: -1, sender, rank, activity: { n, pad: "x".repeat(pad) } };
}

describe("held messages", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let now = 1_000_000;
  const hold = (...items: HeldItem[]) => store.apply({ at: now++, held: items }).heldDropped;
  const ids = (conversation: string) => store.held(conversation).map((h) => h.id);

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({
      path: `${tmp.dir}/s.db`,
      key: { keyFile: writeKeyFile(`${tmp.dir}/key`) },
      heldLimits: LIMITS,
      durability: "normal",
    });
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it("are rows of their own: listed per conversation by epoch, removed one by one", () => {
    const a = { ...item("s", "g"), epoch: 3 };
    const b = { ...item("s", "g"), epoch: 2 };
    expect(hold(a, b)).toEqual([]);
    expect(ids("g")).toEqual([b.id, a.id]);
    expect(store.hasHeld(a.id)).toBe(true);
    expect(store.held("g")[0]).toMatchObject({ sender: "s", rank: 0 });
    expect(store.heldActivity(b.id)).toEqual(b.activity);
    store.apply({ heldRemoved: [b.id] });
    expect(ids("g")).toEqual([a.id]);
    expect(store.heldActivity(b.id)).toBeUndefined();
    expect(store.heldSummary().count).toBe(1);
  });

  it("a stranger flooding unknown groups only pushes out its own oldest items", () => {
    const early = item("alice", "real");
    hold(early);
    const junk = Array.from({ length: 300 }, (_, i) => item("mallory", `junk-${i}`));
    for (const j of junk) hold(j);
    expect(ids("real")).toEqual([early.id]);
    expect(store.heldSummary().count).toBe(1 + LIMITS.perSender);
    // The newest of the stranger's stay.
    expect(store.hasHeld(junk.at(-1)?.id as string)).toBe(true);
    expect(store.hasHeld(junk[0]?.id as string)).toBe(false);
  });

  it("a conversation's quota is not filled at the expense of a member's item", () => {
    const member = item("alice", "g", 2);
    hold(member);
    const dropped = [];
    for (let i = 0; i < 20; i++) dropped.push(...hold(item(`stranger-${i}`, "g", 0)));
    expect(store.hasHeld(member.id)).toBe(true);
    expect(ids("g")).toHaveLength(LIMITS.perConversation);
    expect(dropped).toHaveLength(20 - (LIMITS.perConversation - 1));
  });

  it("the total byte budget makes room from the lowest rank, largest sender first, never from a higher rank", () => {
    const member = item("alice", "g", 2, 1000);
    const contact = item("carol", "h", 1, 1000);
    hold(member, contact);
    // Many senders, padded: the byte budget (6000) is reached.
    for (let i = 0; i < 12; i++) hold(item(`s${i % 3}`, `junk-${i}`, 0, 900));
    expect(store.hasHeld(member.id) && store.hasHeld(contact.id)).toBe(true);
    expect(store.heldSummary().bytes).toBeLessThanOrEqual(LIMITS.totalBytes);
    // A stranger's item that could only fit by dropping ranked ones is itself dropped.
    for (let i = 0; i < 12; i++) hold(item(`t${i}`, `x-${i}`, 0, 900));
    const big = item("dave", "y", 0, 3900);
    hold(item("alice", "g2", 2, 1000), item("carol", "h2", 1, 1000));
    expect(hold(big)).toContain(big.id);
    expect(store.hasHeld(member.id) && store.hasHeld(contact.id)).toBe(true);
  });

  it("an item larger than a sender's byte quota is not held", () => {
    const huge = item("mallory", "g", 2, 5000);
    expect(hold(huge)).toEqual([huge.id]);
    expect(store.heldSummary()).toEqual({ count: 0, bytes: 0 });
  });

  it("items older than the age limit go when the next one is held", () => {
    const old = item("alice", "g");
    hold(old);
    now += LIMITS.maxAgeMs + 1;
    expect(hold(item("alice", "g"))).toEqual([old.id]);
    expect(store.hasHeld(old.id)).toBe(false);
  });

  it("holding the same activity twice changes nothing", () => {
    const a = item("alice", "g");
    hold(a);
    expect(hold(a)).toEqual([]);
    expect(store.heldSummary().count).toBe(1);
  });
});
