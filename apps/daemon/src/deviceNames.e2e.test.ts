import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { serveApi } from "./api/index.js";
import { runCli } from "./cli/main.js";
import type { Daemon } from "./daemon.js";
import { joined, useWorld } from "./testing/world.js";

// A contact's devices carry the names they publish with their KeyPackages (`generator.name`): the daemon
// records the name when it first sees the device, the API returns it, `sotto contacts` shows it.
describe("contacts' devices show their published names", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;

  beforeAll(async () => {
    const [a, b] = [await world().server(), await world().server()];
    alice = await world().daemon(a, "alice", { deviceName: "Alice's laptop" });
    bob = await world().daemon(b, "bob", { deviceName: "Bob's <b>phone</b>" });
    await alice.start();
    await bob.start();
    await bob.maintainKeyPackages();
    await alice.maintainKeyPackages();
  });

  it("as the inviter and as the invitee, through the API and the CLI", async () => {
    const { id } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, id, "bob");
    // The inviter read bob's name with his KeyPackage; bob read alice's when he checked her leaf.
    expect((await alice.getContact({ actor: bob.actorId })).devices.map((d) => d.name)).toEqual([
      "Bob's phone",
    ]);
    expect((await bob.getContact({ actor: alice.actorId })).devices.map((d) => d.name)).toEqual([
      "Alice's laptop",
    ]);
    const api = await serveApi(bob, { stateDir: join(world().dir, "bob-data") });
    try {
      let stdout = "";
      const code = await runCli(
        ["--url", api.url, "--token-file", join(world().dir, "bob-data", "api-token"), "contacts"],
        { stdout: (t) => (stdout += t), stderr: () => {}, env: {} },
      );
      expect(code).toBe(0);
      expect(stdout).toMatch(/NOT verified, 1 device: Alice's laptop\n$/);
    } finally {
      await api.close();
    }
  });
});
