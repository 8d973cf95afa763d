// Pipelined deliveries at a real receiving server: signed with bob's own key, as his server sends them, but
// sent by the test in an order of its choosing, with `Sotto-Sequence` numbers.
import type { webcrypto } from "node:crypto";
import { signRequest } from "@fedify/fedify";
import { SEQUENCE_HEADER, SEQUENCED_DELIVERY, SEQUENCED_OUTBOX } from "@sotto/shared/sequence";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBackend } from "./backend.js";
import { DeliveryOrder, HOLD_MS } from "./deliveryOrder.js";
import { MLS_CONTEXT } from "./testkit/activities.js";
import { AP, collectionIds, getJson } from "./testkit/client.js";
import { startTwoServers, type TwoServers, type User } from "./testkit/servers.js";
import { RSA_MODULUS_BITS, Users } from "./users.js";

describe("pipelined deliveries at the receiving server", () => {
  let servers: TwoServers;
  let alice: User;
  let bob: User;
  let bobKey: webcrypto.CryptoKey;
  let notes = 0;

  beforeAll(async () => {
    servers = await startTwoServers();
    ({ alice, bob } = servers);
    const backend = await openBackend(servers.storage[1]);
    const [rsa] = await new Users(backend.store.accounts).keyPairs("bob");
    await backend.close();
    if (rsa === undefined) throw new Error("bob has no key pair");
    bobKey = rsa.privateKey;
  });

  afterAll(async () => {
    await servers?.close();
  });

  /** A Create of a Note from bob to alice, signed as bob's server signs it; `sequence` = "<stream> <n> <done>". */
  const deliver = async (sequence: string | undefined): Promise<{ id: string; answer: Promise<number> }> => {
    const id = `${bob.actorId}/activities/test-${++notes}`;
    const activity = {
      "@context": MLS_CONTEXT[0],
      id,
      type: "Create",
      actor: bob.actorId,
      to: [alice.actorId],
      object: { id: `${id}/note`, type: "Note", attributedTo: bob.actorId, content: `note ${notes}` },
    };
    const request = await signRequest(
      new Request(`${alice.actorId}/inbox`, {
        method: "POST",
        headers: { "content-type": AP, ...(sequence === undefined ? {} : { [SEQUENCE_HEADER]: sequence }) },
        body: JSON.stringify(activity),
      }),
      bobKey,
      new URL(`${bob.actorId}#main-key`),
    );
    return { id, answer: fetch(request).then((r) => r.status) };
  };
  const inbox = () => collectionIds(`${alice.actorId}/inbox`, alice.token);
  const settledWithin = (answer: Promise<unknown>, ms: number): Promise<boolean> =>
    Promise.race([answer.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

  it("announces in its actors that it keeps the order of pipelined deliveries", async () => {
    expect((await getJson(alice.actorId))[SEQUENCED_DELIVERY]).toBe(1);
  });

  it("holds a delivery until its predecessor is stored, and stores a stream in its numbers' order", async () => {
    const before = await inbox();
    const second = await deliver("orderstream1 2 0");
    // Its predecessor has not come: the request stays open and nothing is stored.
    expect(await settledWithin(second.answer, 300)).toBe(false);
    expect(await inbox()).toEqual(before);
    const first = await deliver("orderstream1 1 0");
    expect(await first.answer).toBe(202);
    expect(await second.answer).toBe(202);
    const third = await deliver("orderstream1 3 2");
    expect(await third.answer).toBe(202);
    // A redelivery (its number's turn has passed) is answered at once and stored once.
    const again = await deliver("orderstream1 1 0");
    expect(await again.answer).toBe(202);
    expect((await inbox()).slice(before.length)).toEqual([first.id, second.id, third.id, again.id]);
  });

  it("stores a delivery whose predecessors never come after a bounded hold", async () => {
    const before = await inbox();
    // Deliveries 1-3 settled at the sender, 4 never arrives (it failed there, say).
    const fifth = await deliver("gapstream01 5 3");
    expect(await settledWithin(fifth.answer, HOLD_MS + 5000)).toBe(true);
    expect(await fifth.answer).toBe(202);
    expect((await inbox()).slice(before.length)).toEqual([fifth.id]);
  });

  it("stores deliveries without a sequence as they come", async () => {
    const before = await inbox();
    const plain = await deliver(undefined);
    expect(await plain.answer).toBe(202);
    expect((await inbox()).slice(before.length)).toEqual([plain.id]);
  });

  /** A Note posted by alice to her outbox (C2S), with `sequence` as its `Sotto-Sequence`. */
  const postNote = (sequence: string): { answer: Promise<Response> } => ({
    answer: fetch(`${alice.actorId}/outbox`, {
      method: "POST",
      headers: { "content-type": AP, authorization: `Bearer ${alice.token}`, [SEQUENCE_HEADER]: sequence },
      body: JSON.stringify({ type: "Note", to: [bob.actorId], content: `post ${sequence}` }),
    }),
  });
  const outbox = () => collectionIds(`${alice.actorId}/outbox`, alice.token);
  // The order of an owner's posts is kept in one process's memory: on SQLite (one process) only.
  const keepsPostOrder = () => servers.storage[0].database === undefined;

  it("announces that it keeps the order of an owner's pipelined posts where it can (SQLite)", async () => {
    expect((await getJson(alice.actorId))[SEQUENCED_OUTBOX]).toBe(keepsPostOrder() ? 1 : undefined);
  });

  it("stores an owner's pipelined posts in their numbers' order", async () => {
    const before = await outbox();
    const second = postNote("poststream1 2 0");
    // On SQLite it waits for its predecessor; elsewhere the header is ignored and it is stored as it comes.
    if (keepsPostOrder()) expect(await settledWithin(second.answer, 300)).toBe(false);
    else await second.answer;
    const first = postNote("poststream1 1 0");
    const [one, two] = await Promise.all([first.answer, second.answer]);
    expect([one.status, two.status]).toEqual([201, 201]);
    const ids = [one.headers.get("location"), two.headers.get("location")];
    expect((await outbox()).slice(before.length)).toEqual(keepsPostOrder() ? ids : ids.reverse());
  });

  it("gives new users RSA keys of the size most Fediverse servers use", async () => {
    expect(bobKey.algorithm).toMatchObject({ name: "RSASSA-PKCS1-v1_5", modulusLength: RSA_MODULUS_BITS });
    expect(RSA_MODULUS_BITS).toBe(2048);
  });
});

describe("DeliveryOrder", () => {
  it("starts the next in turn once the one before releases its turn, before that one settles", async () => {
    const order = new DeliveryOrder();
    const started: number[] = [];
    let finishFirst: () => void = () => {};
    const first = order.inOrder("signer", { stream: "releasing", n: 1, done: 0 }, (release) => {
      started.push(1);
      release(); // its writes are issued: the next may issue its own into the same commit
      return new Promise<void>((resolve) => {
        finishFirst = resolve;
      });
    });
    const second = order.inOrder("signer", { stream: "releasing", n: 2, done: 0 }, async () => {
      started.push(2);
    });
    await second;
    expect(started).toEqual([1, 2]);
    finishFirst();
    await first;
  });

  it("keeps the next in turn waiting while the one before neither released nor settled", async () => {
    const order = new DeliveryOrder();
    const started: number[] = [];
    let finishFirst: () => void = () => {};
    const first = order.inOrder("signer", { stream: "holding1", n: 1, done: 0 }, () => {
      started.push(1);
      return new Promise<void>((resolve) => {
        finishFirst = resolve;
      });
    });
    const second = order.inOrder("signer", { stream: "holding1", n: 2, done: 0 }, async () => {
      started.push(2);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toEqual([1]);
    finishFirst();
    await Promise.all([first, second]);
    expect(started).toEqual([1, 2]);
  });
});
