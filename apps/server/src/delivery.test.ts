// One sender's activities reach a remote server in the order they were posted, also in a burst that queues
// up behind each other and beside another sender's burst (each sender's own ordering key). That a redelivered
// activity is stored once is close.test.ts's (deliveries redone after a restart).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { barePrivateMessage } from "./testkit/activities.js";
import { collectionIds, eventually, post } from "./testkit/client.js";
import { device, welcomeAndMessage } from "./testkit/mls.js";
import { startTwoServers, type TwoServers, type User } from "./testkit/servers.js";

const BURST = 40;

describe("delivery order", () => {
  let servers: TwoServers;
  let alice: User;
  let bob: User;
  let carol: User;

  beforeAll(async () => {
    servers = await startTwoServers();
    ({ alice, bob } = servers);
    carol = await servers.b.createUser("carol");
  });

  afterAll(async () => {
    await servers?.close();
  });

  it("keeps each sender's burst in posting order at the receiving server, each activity once", async () => {
    const { message } = await welcomeAndMessage(
      await device(bob.actorId),
      (await device(alice.actorId)).publicPackage,
    );
    // Posted one after another (each 201 before the next post), not waiting for delivery: the queue backs up.
    const burst = async (sender: User): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < BURST; i++) {
        const response = await post(
          `${sender.actorId}/outbox`,
          sender.token,
          barePrivateMessage([alice.actorId], message),
        );
        expect(response.status).toBe(201);
        ids.push(response.headers.get("location") as string);
      }
      return ids;
    };
    const [fromBob, fromCarol] = await Promise.all([burst(bob), burst(carol)]);
    const received = await eventually(
      async () => {
        const ids = await collectionIds(`${alice.actorId}/messages`, alice.token);
        return ids.length >= 2 * BURST ? ids : undefined;
      },
      300,
      200,
    );
    expect(received).toHaveLength(2 * BURST);
    const bobs = new Set(fromBob);
    expect(received.filter((id) => bobs.has(id))).toEqual(fromBob);
    const carols = new Set(fromCarol);
    expect(received.filter((id) => carols.has(id))).toEqual(fromCarol);
  });
});
