// `sotto-server migrate`: a populated SQLite server moved to MariaDB keeps its users, tokens, messages,
// KeyPackages and queued deliveries, proven by using them through the server running on MariaDB.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./commands.js";
import { type SottoServer, startServer } from "./server.js";
import { freshDatabase } from "./testing/mariadb.js";
import { barePrivateMessage, MLS_CONTEXT } from "./testkit/activities.js";
import { collectionIds, eventually, get, getJson, post } from "./testkit/client.js";
import { device, welcomeAndMessage } from "./testkit/mls.js";

const cli = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out, err };
};

describe("sotto-server migrate (SQLite to MariaDB)", () => {
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "sotto-migrate-"))) as [string, string];
  const running: SottoServer[] = [];
  const start = async (options: Parameters<typeof startServer>[0]) => {
    const server = await startServer(options);
    running.push(server);
    return server;
  };
  const stop = async (server: SottoServer) => {
    running.splice(running.indexOf(server), 1);
    await server.close();
  };
  afterAll(async () => {
    for (const server of running) await server.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("moves a populated server, which then serves and delivers from MariaDB", async () => {
    const a = await start({ dataDir: dirs[0] });
    const b = await start({ dataDir: dirs[1] });
    const portA = Number(new URL(a.origin).port);
    const portB = Number(new URL(b.origin).port);
    const alice = await a.createUser("alice");
    const bob = await b.createUser("bob");
    const envA = { SOTTO_DATA_DIR: dirs[0] };
    const secondToken = (await cli(envA, "issue-token", "alice")).out[0]?.slice("token ".length) ?? "";
    const [aliceDevice, bobDevice] = [await device(alice.actorId), await device(bob.actorId)];

    // Alice publishes a KeyPackage; bob sends her a Welcome and a message.
    const published = await post(`${alice.actorId}/outbox`, alice.token, {
      "@context": MLS_CONTEXT,
      type: "Create",
      to: "as:Public",
      object: {
        type: "KeyPackage",
        to: "as:Public",
        mediaType: "message/mls",
        encoding: "base64",
        content: aliceDevice.keyPackageBase64,
      },
    });
    expect(published.status).toBe(201);
    const keyPackageId = ((await published.json()) as { object: { id: string } }).object.id;
    const { welcome, message } = await welcomeAndMessage(bobDevice, aliceDevice.publicPackage);
    for (const content of [welcome, message]) {
      const sent = await post(
        `${bob.actorId}/outbox`,
        bob.token,
        barePrivateMessage([alice.actorId], content),
      );
      expect(sent.status).toBe(201);
    }
    const received = await eventually(async () => {
      const ids = await collectionIds(`${alice.actorId}/messages`, alice.token);
      return ids.length === 2 ? ids : undefined;
    });
    const firstPage = await getJson(`${alice.actorId}/messages?page=first`, alice.token);

    // Alice answers once while bob's server is up (her server now knows bob's actor)...
    const first = await post(
      `${alice.actorId}/outbox`,
      alice.token,
      barePrivateMessage([bob.actorId], message),
    );
    expect(first.status).toBe(201);
    await eventually(async () =>
      (await collectionIds(`${bob.actorId}/messages`, bob.token)).length === 1 ? true : undefined,
    );
    // ... then bob's server is down: her next reply waits in her server's SQLite queue.
    await stop(b);
    const reply = await post(
      `${alice.actorId}/outbox`,
      alice.token,
      barePrivateMessage([bob.actorId], message),
    );
    expect(reply.status).toBe(201);
    const replyId = reply.headers.get("location");
    await stop(a);

    const database = await freshDatabase();
    const moved = await cli(envA, "migrate", database);
    expect(moved.err).toEqual([]);
    expect(moved.code).toBe(0);
    expect(moved.out).toContain("users 1");
    expect(moved.out).toContain("tokens 2");
    expect(moved.out).toContain("mls_messages 2");
    expect(moved.out).toContain("mls_key_packages 1");
    expect(moved.out.find((l) => l.startsWith("queued deliveries "))).not.toBe("queued deliveries 0");
    // Into a database that is not empty, never.
    const again = await cli(envA, "migrate", database);
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/already holds users/);

    // A on MariaDB alone (no dataDir), on its old address; bob's server comes back.
    const a2 = await start({ database, port: portA });
    await start({ dataDir: dirs[1], port: portB });
    // Both tokens still work; the messages are there, at the same positions.
    expect(await collectionIds(`${alice.actorId}/messages`, secondToken)).toEqual(received);
    expect(await getJson(`${alice.actorId}/messages?page=first`, alice.token)).toEqual(firstPage);
    expect((await get(`${alice.actorId}/messages`, "not-a-token")).status).toBe(401);
    // The KeyPackage is still listed and served.
    const keyPackages = await getJson(`${alice.actorId}/keyPackages`);
    expect((keyPackages.items as { id: string }[]).map((i) => i.id)).toEqual([keyPackageId]);
    expect((await getJson(keyPackageId)).content).toBe(aliceDevice.keyPackageBase64);
    // The queued reply reaches bob, from MariaDB's queue, signed with alice's copied keys.
    await eventually(async () => {
      const ids = await collectionIds(`${bob.actorId}/messages`, bob.token);
      return ids.includes(replyId as string) ? ids : undefined;
    }, 300);
    // New mail still arrives, and alice can still post.
    const more = await post(`${bob.actorId}/outbox`, bob.token, barePrivateMessage([alice.actorId], message));
    expect(more.status).toBe(201);
    await eventually(async () => {
      const ids = await collectionIds(`${alice.actorId}/messages`, alice.token);
      return ids.length === 3 ? ids : undefined;
    });
    expect((await cli({ SOTTO_DATABASE: database }, "list-users")).out).toEqual(["alice"]);
    expect(a2.origin).toBe(`http://127.0.0.1:${portA}`);
  });
});
