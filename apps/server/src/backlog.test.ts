// A peer server that restarts gets its backlog within a minute: retries and the circuit breaker probe in
// seconds (issue 14, point 6), instead of Fedify's default 30-minute pause after five failures.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { barePrivateMessage } from "./testkit/activities.js";
import { collectionIds, eventually, post } from "./testkit/client.js";
import { device, welcomeAndMessage } from "./testkit/mls.js";
import { startTwoServers, type TwoServers } from "./testkit/servers.js";

const BACKLOG = 30;

describe("delivery to a peer server that restarts", () => {
  let servers: TwoServers;

  beforeAll(async () => {
    servers = await startTwoServers();
  });

  afterAll(async () => {
    await servers?.close();
  });

  it("delivers the backlog of a peer that was down for 2 s within 60 s, each activity once", async () => {
    const { alice, bob } = servers;
    const { message } = await welcomeAndMessage(
      await device(bob.actorId),
      (await device(alice.actorId)).publicPackage,
    );
    const send = async () => {
      const response = await post(
        `${bob.actorId}/outbox`,
        bob.token,
        barePrivateMessage([alice.actorId], message),
      );
      expect(response.status).toBe(201);
      return response.headers.get("location") as string;
    };
    const received = () => collectionIds(`${alice.actorId}/messages`, alice.token);
    // B resolves (and caches) alice while A is up.
    const first = await send();
    await eventually(async () => ((await received()).includes(first) ? true : undefined));

    await servers.stopA();
    const backlog: string[] = [];
    for (let i = 0; i < BACKLOG; i++) backlog.push(await send());
    // Enough failed attempts to open A's circuit on B (five within a minute) before A comes back.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await servers.startA();

    // Bounded wait: 600 polls of 100 ms (at least a minute); not a timing assertion.
    const ids = await eventually(async () => {
      const current = await received();
      return backlog.every((id) => current.includes(id)) ? current : undefined;
    }, 600);
    expect(ids.filter((id) => backlog.includes(id))).toHaveLength(BACKLOG);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);
});
