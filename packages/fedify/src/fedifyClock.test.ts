// The patched Fedify (patches/@fedify__fedify@2.3.6.patch) reads the clock on a delivery's hot path as epoch
// milliseconds instead of through the Temporal polyfill (whose Now.instant(), toString() and compare cost
// ~0.2 ms per signature), and the circuit breaker reads it only when a circuit is not closed. These tests hold
// the behaviour those checks had: the signature's times, the time window in each form it is given, deliveries
// through the queue and its circuit breaker.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createFederation, InProcessMessageQueue, MemoryKvStore } from "@fedify/fedify";
import { generateCryptoKeyPair, signRequest, verifyRequest } from "@fedify/fedify/sig";
import { Create, CryptographicKey, Note, Person } from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { afterAll, describe, expect, it } from "vitest";

describe("RFC 9421 signatures without the polyfill clock", async () => {
  const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const keyId = new URL("https://sender.example/users/alice#main-key");
  const key = new CryptographicKey({
    id: keyId,
    owner: new URL("https://sender.example/users/alice"),
    publicKey: keys.publicKey,
  });
  const keyCache = { get: async () => key, set: async () => {} };
  const noLoader = async (): Promise<never> => {
    throw new Error("the key is cached");
  };
  const body = new TextEncoder().encode('{"type":"Create"}');
  const sign = (currentTime?: Temporal.Instant) =>
    signRequest(
      new Request("https://receiver.example/inbox", { method: "POST", body }),
      keys.privateKey,
      keyId,
      { spec: "rfc9421", body: body.buffer, ...(currentTime ? { currentTime } : {}) },
    );
  const verify = (request: Request, timeWindow?: Temporal.DurationLike) =>
    verifyRequest(new Request(request.url, { method: "POST", headers: request.headers, body }), {
      keyCache,
      documentLoader: noLoader,
      contextLoader: noLoader,
      ...(timeWindow ? { timeWindow } : {}),
    });

  it("signs with the current time and verifies", async () => {
    const before = Math.floor(Date.now() / 1000);
    const signed = await sign();
    const created = Number(/created=(\d+)/.exec(signed.headers.get("signature-input") ?? "")?.[1]);
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(new Date(signed.headers.get("date") ?? "").getTime() / 1000).toBeCloseTo(created, -1);
    expect((await verify(signed))?.id?.href).toBe(keyId.href);
  });

  it("still refuses a signature created outside the time window", async () => {
    const twoHoursAgo = Temporal.Instant.fromEpochMilliseconds(Date.now() - 2 * 3_600_000);
    const old = await sign(twoHoursAgo);
    expect(await verify(old)).toBeNull();
    expect((await verify(old, { hours: 3 }))?.id?.href).toBe(keyId.href);
    expect(await verify(old, Temporal.Duration.from({ minutes: 119 }))).toBeNull();
    const inAnHour = await sign(Temporal.Instant.fromEpochMilliseconds(Date.now() + 3_600_000 + 60_000));
    expect(await verify(inAnHour)).toBeNull();
  });
});

describe("a queued delivery through a closed circuit", () => {
  const inbox = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(202).end());
  });
  afterAll(() => new Promise<void>((resolve) => inbox.close(() => resolve())));

  it("delivers queued activities one after another", async () => {
    await new Promise<void>((resolve) => inbox.listen(0, "127.0.0.1", resolve));
    const inboxUrl = new URL(`http://127.0.0.1:${(inbox.address() as AddressInfo).port}/inbox`);
    const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    const queue = new InProcessMessageQueue();
    const federation = createFederation<void>({ kv: new MemoryKvStore(), queue });
    federation
      .setActorDispatcher(
        "/users/{identifier}",
        (ctx, identifier) => new Person({ id: ctx.getActorUri(identifier), preferredUsername: identifier }),
      )
      .setKeyPairsDispatcher(() => [keys]);
    const stop = new AbortController();
    const running = federation.startQueue(undefined, { signal: stop.signal });
    const ctx = federation.createContext(new URL("https://sender.example"), undefined);
    const send = async (n: number) => {
      const id = `https://sender.example/activities/${n}`;
      await ctx.sendActivity(
        { identifier: "alice" },
        { id: new URL("https://receiver.example/users/bob"), inboxId: inboxUrl },
        new Create({
          id: new URL(id),
          actor: ctx.getActorUri("alice"),
          object: new Note({ id: new URL(`${id}/note`), content: "hello" }),
        }),
      );
    };
    let served = 0;
    inbox.on("request", () => served++);
    const deliveredCount = async (count: number) => {
      for (let i = 0; i < 500 && served < count; i++) await new Promise((r) => setTimeout(r, 10));
      expect(served).toBe(count);
    };
    try {
      await send(1);
      await deliveredCount(1);
      await send(2);
      await deliveredCount(2);
    } finally {
      stop.abort();
      await running;
    }
  });
});
