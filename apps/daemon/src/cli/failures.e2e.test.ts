// What `sotto` says when things go wrong outside it, against a real daemon and server: `send --wait` exits 3 when
// the home server refuses the message (here: over its body limit), and `status` says offline, with the reason, in
// its text and its JSON alike once the server is down.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Status } from "@sotto/api";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiServer, serveApi } from "../api/index.js";
import type { Daemon } from "../daemon.js";
import { joined, until, useWorld } from "../testing/world.js";
import { runCli } from "./main.js";

describe("sotto when the home server refuses or is down", () => {
  const world = useWorld();
  let server: SottoServer;
  let alice: Daemon;
  let bob: Daemon;
  let api: ApiServer;
  let conversationId: string;

  /** `sotto` in-process against Alice's daemon. */
  async function sotto(argv: string[]) {
    let stdout = "";
    let stderr = "";
    const dataDir = join(world().dir, "alice-data");
    const code = await runCli(["--url", api.url, "--token-file", join(dataDir, "api-token"), ...argv], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: {},
    });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    // A home server that takes requests of at most 96 KiB: a 200 KB attachment is refused (413), for good.
    server = await startServer({ dataDir: join(world().dir, "small-server"), bodyLimit: 96 * 1024 });
    world().servers.push(server);
    alice = await world().daemon(server, "alice");
    bob = await world().daemon(server, "bob");
    await alice.start();
    await bob.start();
    await bob.maintainKeyPackages();
    api = await serveApi(alice, { stateDir: join(world().dir, "alice-data") });
    conversationId = (await alice.createConversation({ members: [bob.actorId] })).id;
    await joined(bob, conversationId, "bob");
  });

  afterAll(async () => {
    await api?.close();
  });

  it("send --wait exits 3 and says why when the message cannot be delivered, in text and JSON", async () => {
    const file = join(world().dir, "big.bin");
    writeFileSync(file, randomBytes(200_000));
    const text = await sotto(["send", conversationId, "too big for this server", "--file", file, "--wait"]);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe("");
    expect(text.stderr).toMatch(/^sotto: urn:uuid:\S+ was not delivered: client_error \(see: sotto status\)/);
    const json = await sotto(["send", conversationId, "again", "--file", file, "--wait", "--json"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: "not_delivered", message: expect.stringContaining("was not delivered"), exitCode: 3 },
    });
    // A small one still goes, and --wait then exits 0.
    const small = await sotto(["send", conversationId, "fits", "--wait"]);
    expect(small.code, small.stderr).toBe(0);
    expect(small.stdout).toMatch(/^Sent /);
    const status = JSON.parse((await sotto(["status", "--json"])).stdout) as Status;
    expect(status.outbox.failed).toBe(2);
  });

  it("status says offline with the reason once the server is down, the text and the JSON agreeing", async () => {
    await server.close();
    await until("alice to notice", () => alice.status().sync.state === "offline", 60_000);
    const json = await sotto(["status", "--json"]);
    const text = await sotto(["status"]);
    expect([json.code, text.code]).toEqual([0, 0]);
    const status = JSON.parse(json.stdout) as Status;
    expect(status.sync).toMatchObject({ state: "offline", error: expect.any(String) });
    const reason = status.sync.error as string;
    expect(reason.length).toBeGreaterThan(0);
    const lines = text.stdout.split("\n");
    expect(lines[0]).toBe(`sottod ${status.version}: running, offline`);
    expect(lines[2]).toMatch(
      new RegExp(`^sync {5}offline \\(${reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\), last sync `),
    );
  });
});
