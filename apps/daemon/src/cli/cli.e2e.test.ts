// The `sotto` command against real daemons: one sotto-server on loopback, Alice's and Bob's `sottod` as the
// built programs (child processes, as users run them), Carol's daemon in-process. Every command is driven as a
// user types it, human and --json, with its error paths; then Alice's sottod restarts on another port while a
// SottoClient and `sotto watch` are connected, and both resume without missing an event.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { type ApiEvent, type Conversation, type Message, SottoClient } from "@sotto/api";
import type { SottoServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEndpoint, tokenPath } from "../api/endpoint.js";
import type { Daemon } from "../daemon.js";
import { programArgs, programEnv } from "../programs.js";
import { createWorld, type Running, runProgram, startSottod, until, type World } from "../testing/index.js";
import { type CliIo, runCli } from "./main.js";

interface User {
  readonly dir: string;
  readonly key: string;
  readonly handle: string;
  actorId: string;
  sottod?: Running;
}

describe("the sotto command on real daemons", () => {
  let world: World;
  let server: SottoServer;
  let carol: Daemon;
  const alice = {} as User;
  const bob = {} as User;
  const closers: (() => unknown)[] = [];

  /** Runs `sotto` in-process as `user` (its state dir), with `stdin` when given. */
  async function sotto(user: User, argv: string[], stdin?: string) {
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { SOTTO_STATE_DIR: user.dir },
      ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
    };
    const code = await runCli(argv, io);
    return { code, stdout, stderr };
  }
  const json = async <T>(user: User, argv: string[], stdin?: string): Promise<T> => {
    const result = await sotto(user, [...argv, "--json"], stdin);
    if (result.code !== 0) throw new Error(`sotto ${argv.join(" ")}: ${result.code} ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };

  async function setUp(user: User, name: string): Promise<void> {
    const created = await server.createUser(name);
    Object.assign(user, {
      dir: join(world.dir, name),
      key: join(world.dir, `${name}.key`),
      handle: `@${name}@${server.domain}`,
      actorId: created.actorId,
    });
    writeFileSync(user.key, randomBytes(32), { mode: 0o600 });
    const init = await runProgram(
      "sottod",
      [
        "init",
        "--data",
        user.dir,
        "--actor",
        user.handle,
        "--token",
        created.token,
        "--key-file",
        user.key,
      ].concat(["--allow-private-address", "--plain-http-webfinger"]),
      "",
    );
    expect(init.code, init.stderr).toBe(0);
    user.sottod = await startSottod(["--data", user.dir, "--key-file", user.key]);
  }

  beforeAll(async () => {
    world = await createWorld();
    server = await world.server();
    await setUp(alice, "alice");
    await setUp(bob, "bob");
    carol = await world.daemon(server, "carol");
    await carol.start();
    await carol.maintainKeyPackages();
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await alice.sottod?.stop();
    await bob.sottod?.stop();
    await world?.close();
  });

  const chatsOf = async (user: User) =>
    (await json<{ conversations: Conversation[] }>(user, ["chats", "--all"])).conversations;

  it("shows status, account and devices; the text and the JSON say the same", async () => {
    const status = await json<{ ready: boolean; sync: { state: string }; account: { handle: string } }>(
      alice,
      ["status"],
    );
    expect(status.ready).toBe(true);
    const text = await sotto(alice, ["status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^sottod 0\.1\.0: running, (online|offline|error)\n/);
    expect(text.stdout).toContain(`sync     ${status.sync.state}`);
    expect(text.stdout).toContain(`account  ${status.account.handle}`);

    const account = await sotto(alice, ["account"]);
    expect(account.stdout).toContain(alice.handle.replace(/^@/, ""));
    expect(account.stdout).toContain(`actor   ${alice.actorId}`);
    const devices = await json<{ devices: { fingerprint: string; name: string }[] }>(alice, ["devices"]);
    const [device] = devices.devices;
    expect((await sotto(alice, ["devices"])).stdout).toContain(`fingerprint ${device?.fingerprint}`);
    expect(device?.name).toMatch(/^sottod on /);
  });

  it("send @bob opens the one-to-one chat; --wait returns once sent; Bob reads it, which marks it read", async () => {
    // Bob's sottod publishes its KeyPackages when it starts: until then there is nothing to invite him with.
    const first = await until("Alice's first message to Bob", async () => {
      const sent = await sotto(alice, ["send", bob.handle, "hello", "Bob", "--wait"]);
      return sent.code === 0 ? sent : undefined;
    });
    expect(first.stderr).toMatch(/^Started a conversation with \S+ \([0-9a-f]{8}\)\n$/);
    expect(first.stdout).toMatch(/^Sent [0-9a-f]{8} \(urn:uuid:[0-9a-f-]+\) to /);
    const [chat] = await chatsOf(alice);
    expect(chat?.members).toHaveLength(2);
    // The same handle now names that chat: no second one is opened.
    const second = await json<Message>(alice, ["send", bob.handle.slice(1), "second", "--wait"]);
    expect(second.conversationId).toBe(chat?.id);
    expect(second.outbox).toBe("sent");
    expect(await chatsOf(alice)).toHaveLength(1);

    const bobChat = await until("Bob to have both messages", async () => {
      const [c] = await chatsOf(bob);
      return c && c.unread === 2 ? c : undefined;
    });
    const chats = await sotto(bob, ["chats"]);
    expect(chats.stdout).toMatch(new RegExp(`^${bobChat.id.slice(9, 17)} {2}\\S+ \\(2 unread\\)`));
    const history = await sotto(bob, ["history", alice.handle]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/^[0-9a-f]{8} \[.+\] \S+: hello Bob\n[0-9a-f]{8} \[.+\] \S+: second\n$/);
    expect((await chatsOf(bob))[0]?.unread).toBe(0);
    // The short id names the chat for good.
    const byId = await sotto(bob, ["chat", bobChat.id.slice(9, 17)]);
    expect(byId.stdout).toContain(`${alice.handle.slice(1)}`);
    expect(byId.stdout).toContain("0 unread");
  });

  it("replies, edits, reacts, takes a reaction back, deletes, shows one message and marks read", async () => {
    const [chat] = await chatsOf(bob);
    if (!chat) throw new Error("the chat of the test above");
    const page = await json<{ messages: Message[] }>(bob, ["history", chat.id]);
    const hello = page.messages[0] as Message;
    const short = hello.id.slice(9, 17);
    const reply = await json<Message>(bob, ["reply", alice.handle, short, "hi", "Alice"]);
    expect(reply.inReplyTo).toBe(hello.id);
    const own = reply.id.slice(9, 17);
    expect((await sotto(bob, ["edit", alice.handle, own, "hi", "Alice!"])).stdout).toBe(`Edited ${own}\n`);
    expect((await sotto(bob, ["react", alice.handle, short, "👍"])).code).toBe(0);
    const shown = await json<Message>(bob, ["show", alice.handle, own]);
    expect(shown).toMatchObject({ content: "hi Alice!", editedAt: expect.any(String) });
    expect((await json<Message>(bob, ["show", alice.handle, short])).reactions).toEqual([
      { emoji: "👍", actors: [bob.actorId] },
    ]);
    expect((await sotto(bob, ["unreact", alice.handle, short, "👍"])).code).toBe(0);
    expect((await json<Message>(bob, ["show", alice.handle, short])).reactions).toEqual([]);
    const human = await sotto(bob, ["show", alice.handle, own]);
    expect(human.stdout).toMatch(
      new RegExp(`^${own} \\[.+\\] \\S+ \\(reply to ${short}\\): hi Alice! \\(edited\\)`),
    );

    // Alice sees the reply and the edit; reading her chat with `read` brings the count down.
    const aliceChat = await until("Alice to have Bob's edited reply", async () => {
      const [c] = await chatsOf(alice);
      const m = c ? await json<Message>(alice, ["show", c.id, reply.id]).catch(() => undefined) : undefined;
      return m?.content === "hi Alice!" && c ? c : undefined;
    });
    expect(aliceChat.unread).toBeGreaterThan(0);
    expect((await sotto(alice, ["read", bob.handle])).code).toBe(0);
    expect((await chatsOf(alice))[0]?.unread).toBe(0);

    expect((await sotto(bob, ["delete", alice.handle, own])).stdout).toBe(`Deleted ${own} for everyone\n`);
    expect((await json<Message>(bob, ["show", alice.handle, own])).deleted).toBe(true);
    // Only the author may delete: the daemon's reason reaches the user.
    const notMine = await sotto(bob, ["delete", alice.handle, short]);
    expect(notMine.code).toBe(1);
    expect(notMine.stderr).toBe("sotto: only the author may change a message (not_author)\n");
  });

  it("reads text from stdin, sends a file without a caption, and saves it on the other side", async () => {
    const piped = await json<Message>(alice, ["send", bob.handle, "-"], "from stdin\n");
    expect(piped.content).toBe("from stdin");
    const long = "x".repeat(60_000);
    expect(
      (await json<Message>(alice, ["send", bob.handle, "--message-from-stdin"], long)).content,
    ).toHaveLength(60_000);
    // Too long: refused with the contract's reason, before anything is sent; --json says it as JSON.
    const tooLong = await sotto(alice, ["send", bob.handle, "-"], "y".repeat(70_000));
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toBe("sotto: text: text must be 1-65,536 characters (invalid_params)\n");
    const asJson = await sotto(alice, ["send", bob.handle, "-", "--json"], "y".repeat(70_000));
    expect(asJson.stdout).toBe("");
    expect(JSON.parse(asJson.stderr)).toMatchObject({
      error: {
        code: "invalid_params",
        exitCode: 1,
        issues: [expect.objectContaining({ path: ["text"], message: "text must be 1-65,536 characters" })],
      },
    });
    // The built command reads its stdin the same way.
    const real = await runProgram("sotto", ["send", bob.handle, "-"], "piped into the real command\n", {
      env: { SOTTO_STATE_DIR: alice.dir },
    });
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/^Queued [0-9a-f]{8} /);

    const file = join(world.dir, "dot.png");
    const bytes = randomBytes(2000);
    writeFileSync(file, bytes);
    const withFile = await json<Message>(alice, ["send", bob.handle, "--file", file]);
    expect(withFile.content).toBe("");
    const short = withFile.id.slice(9, 17);
    await until(
      "Bob to have the file",
      async () => (await sotto(bob, ["show", alice.handle, short])).code === 0,
    );
    const out = join(world.dir, "saved");
    const saved = await sotto(bob, ["save", alice.handle, short, "--out", out]);
    expect(saved.stdout).toBe(`Saved ${join(out, "dot.png")}\n`);
    expect(readFileSync(join(out, "dot.png")).equals(bytes)).toBe(true);
    const again = await sotto(bob, ["save", alice.handle, short, "--out", out]);
    expect(again.code).toBe(66);
    expect(again.stderr).toContain("it exists");
    const unreadable = await sotto(alice, ["send", bob.handle, "--file", join(world.dir, "absent.png")]);
    expect(unreadable.code).toBe(66);
    expect(unreadable.stderr).toContain("ENOENT");
  });

  it("lists contacts and verifies a fingerprint pasted as printed, as one argument or many", async () => {
    const contacts = await sotto(alice, ["contacts"]);
    expect(contacts.stdout).toContain(`${bob.handle.slice(1)}  NOT verified, 1 device`);
    const shown = await sotto(alice, ["verify", bob.handle]);
    expect(shown.stdout).toContain("NOT verified");
    const contact = await json<{ devices: { fingerprint: string; name: string | null }[] }>(alice, [
      "contact",
      bob.handle,
    ]);
    const printed = contact.devices[0]?.fingerprint as string;
    expect(printed).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4})+$/);
    expect(shown.stdout).toContain(printed);
    const many = await sotto(alice, ["verify", bob.handle, ...printed.split(" ")]);
    expect(many.code, many.stderr).toBe(0);
    expect(many.stdout).toMatch(/: verified\n/);
    expect((await sotto(alice, ["unverify", bob.handle])).stdout).toContain("NOT verified");
    const one = await json<{ verified: boolean }>(alice, ["verify", bob.handle, printed]);
    expect(one.verified).toBe(true);
    const wrong = await sotto(alice, [
      "verify",
      bob.handle,
      printed.replace(/^./, (c) => (c === "0" ? "1" : "0")),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/\(fingerprint_mismatch\)\n$/);

    const synced = await sotto(alice, ["sync"]);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stdout).toMatch(/^Synced: \w+, last sync /);
  });

  it("says what is wrong on the error paths, and never takes a number for a chat", async () => {
    const number = await sotto(alice, ["send", "1", "hi"]);
    expect(number.code).toBe(1);
    expect(number.stderr).toContain('no conversation matches "1": name one by the id `sotto chats` shows');
    const nobody = await sotto(alice, ["send", `@nobody@${server.domain}`, "hello?"]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^sotto: cannot resolve @nobody@.*\(actor_not_found\)\n$/);
    const message = await sotto(alice, ["show", bob.handle, "ffffffff"]);
    expect(message.code).toBe(1);
    expect(message.stderr).toContain('no message "ffffffff"');
    const nothing = await sotto({ ...alice, dir: mkdtempSync(join(world.dir, "empty-")) }, [
      "status",
      "--json",
    ]);
    expect(nothing.code).toBe(2);
    expect(JSON.parse(nothing.stderr).error).toMatchObject({ code: "no_daemon", exitCode: 2 });
  });

  it("runs a group: open with a title, add and remove members, rename, leave", async () => {
    const opened = await json<Conversation>(alice, ["open", bob.handle, "--title", "Team"]);
    expect(opened.title).toBe("Team");
    const added = await sotto(alice, ["add", "Team", carol.actorId]);
    expect(added.code, added.stderr).toBe(0);
    const team = await json<Conversation>(alice, ["chat", "Team"]);
    expect(team.members.map((m) => m.actorId).sort()).toEqual(
      [alice.actorId, bob.actorId, carol.actorId].sort(),
    );
    // Bob is in two chats with Alice now; his handle still names the one-to-one.
    const oneToOne = await json<Message>(alice, ["send", bob.handle, "still just us"]);
    expect(oneToOne.conversationId).not.toBe(team.id);
    expect((await sotto(alice, ["remove", "Team", carol.actorId])).code).toBe(0);
    expect((await json<Conversation>(alice, ["chat", team.id.slice(9, 17)])).members).toHaveLength(2);
    // The title is the members': Bob got it with his invitation, and renames the chat for everyone.
    await until("bob to see the title", async () => (await sotto(bob, ["chat", "Team"])).code === 0);
    const renamed = await sotto(bob, ["title", "Team", "Team", "Rocket"]);
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(renamed.stdout).toContain('is now called "Team Rocket"');
    await until(
      "alice to see the new title",
      async () => (await sotto(alice, ["chat", "Team Rocket"])).code === 0,
    );
    const left = await sotto(alice, ["leave", "Team Rocket"]);
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout).toContain("history stays readable");
    expect((await json<Conversation>(alice, ["chat", "Team Rocket"])).left).toBe(true);
    expect((await sotto(alice, ["chats"])).stdout).not.toContain("Team");
    expect((await sotto(alice, ["chats", "--all"])).stdout).toMatch(/Team Rocket \[left\]/);
  });

  it("follows Alice's sottod to a new port: a SottoClient and `sotto watch` resume, nothing missed", async () => {
    const events: ApiEvent[] = [];
    const client = await SottoClient.connect({
      url: async () => (await readEndpoint(alice.dir))?.url ?? "",
      token: async () => readFileSync(tokenPath(alice.dir), "utf8").trim(),
      reconnect: { minDelayMs: 50, maxDelayMs: 500 },
    });
    closers.push(() => client.close());
    client.onEvent((e) => events.push(e));
    await client.subscribe({ since: 0 });
    const watch = spawn(process.execPath, programArgs("sotto", ["watch", "--json", "--since", "0"]), {
      env: programEnv({ ...process.env, SOTTO_STATE_DIR: alice.dir }),
    });
    closers.push(() => watch.kill());
    let watched = "";
    let notices = "";
    watch.stdout.on("data", (chunk) => (watched += chunk));
    watch.stderr.on("data", (chunk) => (notices += chunk));
    const seqs = (text: string) =>
      text
        .split("\n")
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as ApiEvent).seq);
    const head = (await json<{ events: { head: number } }>(alice, ["status"])).events.head;
    // At least up to the head: an event the daemon writes meanwhile (its sync state) comes after it.
    await until("watch and the client to replay everything", () =>
      (events.at(-1)?.seq ?? 0) >= head && (seqs(watched).at(-1) ?? 0) >= head ? true : undefined,
    );

    const before = alice.sottod?.url;
    // Another port than the one it had: taken while the old one is still in use, then freed for sottod.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    expect(await alice.sottod?.stop()).toBe(0);
    await until("both to notice", () => client.state === "reconnecting" && notices.includes("reconnecting"));
    // Bob writes while Alice's daemon is down; it catches up when it starts again.
    const sent: string[] = [];
    for (const text of ["while you were away", "one more", "and the last"]) {
      sent.push((await json<Message>(bob, ["send", alice.handle, text])).id);
    }
    alice.sottod = await startSottod([
      "--data",
      alice.dir,
      "--key-file",
      alice.key,
      "--api-port",
      String(port),
    ]);
    expect(alice.sottod.url).toBe(`ws://127.0.0.1:${port}/`);
    expect(alice.sottod.url).not.toBe(before);

    const created = (list: ApiEvent[]) =>
      list.filter((e) => e.type === "message.created" && sent.includes(e.messageId)).length;
    await until("the client to get Bob's messages", () => created(events) === 3, 60_000);
    await until("watch to print them", () => seqs(watched).length >= events.length, 60_000);
    expect(notices).toContain(`sotto: reconnected to sottod at ws://127.0.0.1:${port}/`);
    // Every event once, in order, none skipped: the seqs run 1, 2, 3, ... for both.
    const got = events.map((e) => e.seq);
    expect(got).toEqual(got.map((_, i) => i + 1));
    expect(seqs(watched)).toEqual(got);
    expect(client.url).toBe(alice.sottod.url);
  });
});
