// Closing a server while its deliveries are in flight is orderly: nothing escapes as an unhandled error, and
// what it acknowledged is delivered after a restart on the same data directory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { barePrivateMessage } from "./testkit/activities.js";
import { collectionIds, eventually, getJson, post } from "./testkit/client.js";
import { device, welcomeAndMessage } from "./testkit/mls.js";
import { startTwoServers, type TwoServers } from "./testkit/servers.js";

const BURST = 30;
// Posts still being handled when the sender closes: some get their 201, some never do.
const IN_FLIGHT = 120;

describe("sotto-server close", () => {
  let servers: TwoServers;

  beforeAll(async () => {
    servers = await startTwoServers();
  });

  afterAll(async () => {
    await servers?.close();
  });

  it("closes right after a burst to a remote recipient without unhandled errors, and delivers it after a restart", async () => {
    const { alice, bob } = servers;
    const { message } = await welcomeAndMessage(
      await device(alice.actorId),
      (await device(bob.actorId)).publicPackage,
    );
    const unhandled: unknown[] = [];
    const record = (error: unknown) => unhandled.push(error);
    process.on("unhandledRejection", record);
    process.on("uncaughtException", record);
    let acknowledged: string[];
    try {
      const responses = await Promise.all(
        Array.from({ length: BURST }, () =>
          post(`${alice.actorId}/outbox`, alice.token, barePrivateMessage([bob.actorId], message)),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201));
      acknowledged = responses.map((r) => r.headers.get("location") as string);
      // Alice's server (the sender) closes with most of the burst still queued or being delivered.
      await servers.stopA();
      // Give anything the close left behind (a poll timer, a late retry) the time to fail loudly.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      process.off("unhandledRejection", record);
      process.off("uncaughtException", record);
    }
    expect(unhandled.map(String)).toEqual([]);

    await servers.startA();
    const received = await eventually(async () => {
      const page = await getJson(`${bob.actorId}/messages?after=&limit=${BURST * 2}`, bob.token);
      const ids = (page.orderedItems as { id: string }[]).map((i) => i.id);
      return acknowledged.every((id) => ids.includes(id)) ? ids : undefined;
    }, 300);
    // Each acknowledged post arrives, and only once (a redelivery after close is stored once).
    expect([...received].sort()).toEqual([...acknowledged].sort());
  });

  it("delivers only what the sender's outbox lists, when it closes with posts still in flight", async () => {
    const { alice, bob } = servers;
    const { message } = await welcomeAndMessage(
      await device(alice.actorId),
      (await device(bob.actorId)).publicPackage,
    );
    const inFlight = Array.from({ length: IN_FLIGHT }, () =>
      post(`${alice.actorId}/outbox`, alice.token, barePrivateMessage([bob.actorId], message)).then(
        (r) => (r.status === 201 ? (r.headers.get("location") as string) : undefined),
        () => undefined,
      ),
    );
    await Promise.race(inFlight);
    await servers.stopA();
    const acknowledged = (await Promise.all(inFlight)).filter((id): id is string => id !== undefined);
    await servers.startA();
    const fromAlice = (ids: string[]) => ids.filter((id) => id.startsWith(`${alice.actorId}/`));
    const received = await eventually(async () => {
      const ids = fromAlice(await collectionIds(`${bob.actorId}/messages`, bob.token));
      return acknowledged.every((id) => ids.includes(id)) ? ids : undefined;
    }, 300);
    const listed = new Set(await collectionIds(`${alice.actorId}/outbox`, alice.token));
    expect(received.filter((id) => !listed.has(id))).toEqual([]);
  });
});
