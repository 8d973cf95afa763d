// The API on real daemons: two sotto-servers on loopback, Alice's and Bob's daemons each serving their API,
// and each user driving theirs only through SottoClient, as a frontend would (the CLI on real daemons:
// src/cli/cli.e2e.test.ts).
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ApiEvent, SottoClient } from "@sotto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../daemon.js";
import { createWorld, until, type World } from "../testing/world.js";
import { readEndpoint } from "./endpoint.js";
import { serveApi } from "./serve.js";
import type { ApiServer } from "./server.js";
import { TOKEN_FILE } from "./token.js";

describe("the API of a running daemon", () => {
  let world: World;
  let alice: Daemon;
  let bob: Daemon;
  const servers: ApiServer[] = [];
  const clients: SottoClient[] = [];

  async function clientOf(daemon: Daemon, dir: string): Promise<SottoClient> {
    servers.push(await serveApi(daemon, { stateDir: dir }));
    const endpoint = await readEndpoint(dir);
    const token = readFileSync(join(dir, TOKEN_FILE), "utf8").trim();
    const client = await SottoClient.connect({ url: endpoint?.url ?? "", token });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    world = await createWorld();
    alice = await world.daemon(await world.server(), "alice");
    bob = await world.daemon(await world.server(), "bob");
    await alice.start();
    await bob.start();
    await bob.maintainKeyPackages();
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    await world?.close();
  });

  it("writes a 0600 token and the endpoint to the state dir, and answers status and account.get", async () => {
    const dir = join(world.dir, "alice-data");
    const client = await clientOf(alice, dir);
    expect(statSync(join(dir, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect((await readEndpoint(dir))?.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const status = await client.call("status");
    expect(status.account?.actorId).toBe(alice.actorId);
    expect(status.ready).toBe(true);
    const account = await client.call("account.get");
    expect(account.actorId).toBe(alice.actorId);
    expect(account.device.current).toBe(true);
  });

  it("creates a conversation, sends, and the other side sees message.created and reads it", async () => {
    const [aliceClient] = clients;
    if (!aliceClient) throw new Error("alice's client first");
    const bobClient = await clientOf(bob, join(world.dir, "bob-data"));
    const bobEvents: ApiEvent[] = [];
    bobClient.onEvent((e) => bobEvents.push(e));
    await bobClient.subscribe({ since: 0 });

    const conversation = await aliceClient.call("conversations.create", {
      members: [bob.actorId],
      title: "api",
    });
    expect(conversation.members.map((m) => m.actorId).sort()).toEqual([alice.actorId, bob.actorId].sort());
    const sent = await aliceClient.call("messages.send", {
      conversationId: conversation.id,
      text: "over the API",
    });
    expect(sent.outbox).toBe("queued");

    // The message and its event are committed in one transaction: once Bob's daemon lists it, the event follows.
    await until("bob's daemon to have the message", async () => {
      const page = await bobClient
        .call("messages.list", { conversationId: conversation.id })
        .catch(() => undefined);
      return page?.messages.some((m) => m.id === sent.id && m.content === "over the API");
    });
    const created = await until("bob's message.created event", () =>
      bobEvents.find((e) => e.type === "message.created" && e.messageId === sent.id),
    );
    expect(created.type === "message.created" && created.conversationId).toBe(conversation.id);
    expect(
      bobEvents.some((e) => e.type === "conversation.created" && e.conversationId === conversation.id),
    ).toBe(true);
    // Every client sees one increasing order.
    const seqs = bobEvents.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("sends an HTML message with an attachment, and Bob's daemon receives its bytes", async () => {
    const [aliceClient] = clients;
    if (!aliceClient) throw new Error("alice's client first");
    const { conversations } = await aliceClient.call("conversations.list");
    const conversation = conversations.find((c) => c.title === "api");
    if (!conversation) throw new Error("the api conversation first");
    const bytes = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 255]);
    const sent = await aliceClient.call("messages.send", {
      conversationId: conversation.id,
      text: "<b>see</b> the file<script>x()</script>",
      mediaType: "text/html",
      attachments: [{ mediaType: "image/png", name: "dot.png", data: Buffer.from(bytes).toString("base64") }],
    });
    const received = await until("bob's daemon to have the attachment", () => bob.store.message(sent.id));
    const body = received.body as { content?: string; attachment?: unknown };
    expect(body.content).toContain("<b>see</b>");
    expect(body.content).not.toContain("script");
    expect(body.attachment).toEqual([
      expect.objectContaining({ type: "Image", name: "dot.png", mediaType: "image/png" }),
    ]);
    const [attachment] = body.attachment as { content: string }[];
    expect(new Uint8Array(Buffer.from(attachment?.content ?? "", "base64"))).toEqual(bytes);
    // ...and a frontend of Bob's sees it through the API.
    const [, bobClient] = clients;
    if (!bobClient) throw new Error("bob's client first");
    const shown = await bobClient.call("messages.get", {
      conversationId: conversation.id,
      messageId: sent.id,
    });
    expect(shown.attachments).toEqual([
      { mediaType: "image/png", name: "dot.png", data: Buffer.from(bytes).toString("base64") },
    ]);
    // Not base64, or over the limit: invalid_params before anything is sent.
    await expect(
      aliceClient.call("messages.send", {
        conversationId: conversation.id,
        text: "bad",
        attachments: [{ mediaType: "image/png", data: "not base64!" }],
      }),
    ).rejects.toMatchObject({ code: "invalid_params" });
    await expect(
      aliceClient.call("messages.send", {
        conversationId: conversation.id,
        text: "big",
        attachments: [
          { mediaType: "image/png", data: Buffer.alloc(400 * 1024).toString("base64") },
          { mediaType: "image/png", data: Buffer.alloc(200 * 1024).toString("base64") },
        ],
      }),
    ).rejects.toMatchObject({ code: "invalid_params" });
  });

  it("answers domain errors from the daemon with their codes", async () => {
    const [aliceClient] = clients;
    await expect(
      aliceClient?.call("conversations.get", {
        conversationId: "urn:uuid:00000000-0000-4000-8000-000000000000",
      }),
    ).rejects.toMatchObject({ name: "ApiError", code: "conversation_not_found", rpcCode: -32010 });
  });

  it("runs the minimal frontend of docs/api.md against Alice's daemon", async () => {
    const example = fileURLToPath(
      new URL("../../../../packages/api/examples/minimal-frontend.ts", import.meta.url),
    );
    const child = spawn(process.execPath, [example], {
      env: { ...process.env, SOTTO_STATE_DIR: join(world.dir, "alice-data") },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    try {
      // It lists the conversations, subscribes, sends, and prints its own message when the event comes back.
      await until("the example to print its message", () => stdout.includes("hello from my own frontend"));
      const conversations = alice.listConversations().conversations;
      for (const c of conversations) expect(stdout).toContain(c.id);
      expect(stdout).toMatch(
        /\[urn:uuid:[^\]]+\] http:\/\/127\.0\.0\.1:\d+\/users\/alice: .*hello from my own frontend/,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    } finally {
      child.kill();
    }
  });
});
