// The API on real daemons: two sotto-servers on loopback, Alice's and Bob's daemons each serving their API,
// and each user driving theirs only through SottoClient, as a frontend would.
import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ApiEvent, SottoClient } from "@sotto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIo, runCli } from "../cli/main.js";
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

  it("drives the same daemons from the sotto CLI: open, send, chats, history, devices, verify", async () => {
    const aliceDir = join(world.dir, "alice-data");
    const sotto = async (...argv: string[]) => {
      let stdout = "";
      let stderr = "";
      const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} };
      const code = await runCli(["--state-dir", aliceDir, ...argv], io);
      return { code, stdout, stderr };
    };
    const opened = await sotto("open", bob.actorId, "--json");
    expect(opened.code).toBe(0);
    const conversationId = JSON.parse(opened.stdout).id as string;

    const chats = await sotto("chats");
    expect(chats.stdout).toContain(conversationId);
    const listed = JSON.parse((await sotto("chats", "--json")).stdout) as { conversations: { id: string }[] };
    const index = listed.conversations.findIndex((c) => c.id === conversationId);
    expect(chats.stdout).toMatch(new RegExp(`^ +${index + 1} +`, "m"));

    const sent = await sotto("send", String(index + 1), "hello", "from", "the", "CLI");
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^Queued urn:uuid:/);
    const history = await sotto("history", conversationId);
    expect(history.stdout).toContain("hello from the CLI");
    // <chat> by title: the "api" conversation of the test above; Bob receives it.
    const byTitle = await sotto("send", "api", "hello Bob, from the CLI");
    expect(byTitle.code, byTitle.stderr).toBe(0);
    const apiChat = listed.conversations.find((c) => c.id !== conversationId);
    await until("bob to have the CLI's message", () =>
      bob
        .listMessages({ conversationId: apiChat?.id ?? "" })
        .messages.some((m) => m.content.includes("hello Bob, from the CLI")),
    );

    // --file attaches a file; Bob's daemon gets its bytes, name and media type.
    const file = join(world.dir, "note.txt");
    writeFileSync(file, "attached over the CLI\n");
    const withFile = await sotto("send", "api", "a file", "--file", file, "--json");
    expect(withFile.code, withFile.stderr).toBe(0);
    const fileMessageId = JSON.parse(withFile.stdout).id as string;
    const got = await until("bob to have the CLI's attachment", () => bob.store.message(fileMessageId));
    const [attachment] = (got.body as { attachment: { name: string; mediaType: string; content: string }[] })
      .attachment;
    expect(attachment).toMatchObject({ name: "note.txt", mediaType: "text/plain" });
    expect(Buffer.from(attachment?.content ?? "", "base64").toString()).toBe("attached over the CLI\n");
    const missing = await sotto("send", "api", "no file", "--file", join(world.dir, "absent.png"));
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("ENOENT");

    // <chat> by Bob's handle: both chats are with Bob alone, so the latest active one (the "api" chat).
    const bobHandle = bob.getAccount().handle;
    const byHandle = await sotto("send", bobHandle, "hello by handle", "--json");
    expect(byHandle.code, byHandle.stderr).toBe(0);
    expect(JSON.parse(byHandle.stdout).conversationId).toBe(apiChat?.id);
    const historyByHandle = await sotto("history", bobHandle.replace(/^@/, ""));
    expect(historyByHandle.code, historyByHandle.stderr).toBe(0);
    expect(historyByHandle.stdout).toContain("hello by handle");
    const nobody = await sotto("send", `@nobody@${new URL(bob.actorId).host}`, "hello?");
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("no conversation matches");

    const devices = await sotto("devices");
    expect(devices.stdout).toMatch(/^\* .+\n {4}fingerprint \S/);

    const shown = await sotto("verify", bob.actorId);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("NOT verified");
    const contact = JSON.parse((await sotto("verify", bob.actorId, "--json")).stdout);
    const fingerprints = contact.devices.map((d: { fingerprint: string }) => d.fingerprint);
    expect(fingerprints.length).toBeGreaterThan(0);
    const wrong = await sotto("verify", bob.actorId, "00 11 22");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("fingerprint_mismatch");
    const verified = await sotto("verify", bob.actorId, ...fingerprints, "--json");
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).verified).toBe(true);
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
