import { join } from "node:path";
import {
  addMembers,
  createConversation,
  encryptMessage,
  updateConversation,
  writeApplicationData,
} from "@sotto/core";
import { beforeAll, describe, expect, it } from "vitest";
import { serveApi } from "./api/index.js";
import { createNote } from "./appdata.js";
import { runCli } from "./cli/main.js";
import type { Daemon } from "./daemon.js";
import { type Attacker, createAttacker } from "./testing/attacker.js";
import { joined, messageOf, startCast, until, useWorld } from "./testing/world.js";

// Attacks by a stranger who knows a conversation's id (every server on the path sees it in `context`) or who
// invites a victim into a group of her own making, with real servers and daemons; the attacker's MLS is built
// with @sotto/core (issue 14, points 1 and 2; docs/security.md lists them).
describe("a stranger's Welcomes and commits", () => {
  const world = useWorld();
  let alice: Daemon;
  let bob: Daemon;
  let mallory: Attacker;

  beforeAll(async () => {
    const cast = await startCast(world(), ["alice", "bob"]);
    [alice, bob] = cast.daemons;
    // alice publishes her KeyPackages: her one device key is then checkable by everyone.
    await alice.maintainKeyPackages();
    mallory = await createAttacker(cast.servers[0], "mallory");
  });

  const alertsOf = (conversationId: string) => bob.getConversation(conversationId).alerts ?? [];
  const securityEvents = () =>
    bob.store.since(0, 1000).events.filter((e) => e.type === "conversation.security_alert");

  it("cannot take over a conversation by its group id: bob's stays as it was, and he is told", async () => {
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, conversationId, "bob");
    const first = await alice.sendMessage({ conversationId, text: "before" });
    await until("bob reads alice", () => messageOf(bob, conversationId, first.id));
    const before = bob.getConversation(conversationId);

    // mallory's own group under the same id, with a forged "alice" and bob, several epochs ahead of his.
    const forged = { [alice.actorId]: [await mallory.forgedKeyPackage(alice.actorId)] };
    let group = (
      await createConversation(mallory.engine(forged), { groupId: conversationId, members: [alice.actorId] })
    ).conversation;
    for (let i = 0; i < 3; i++) group = (await updateConversation(mallory.engine(), group)).conversation;
    const invite = await addMembers(mallory.engine(), group, [bob.actorId]);
    expect(invite.welcome).toBeDefined();
    await mallory.send(invite.welcome as Uint8Array, [bob.actorId], conversationId);

    const after = await until("bob handled mallory's Welcome", () => {
      const now = bob.getConversation(conversationId);
      return now.epoch !== before.epoch || (now.alerts ?? []).length > 0 ? now : undefined;
    });
    expect(after.epoch).toBe(before.epoch);
    expect(after.members.map((m) => m.actorId).sort()).toEqual([alice.actorId, bob.actorId].sort());
    expect(alertsOf(conversationId)).toContainEqual(
      expect.objectContaining({ kind: "welcome_refused", actorId: mallory.actorId }),
    );
    expect(securityEvents()).toContainEqual(
      expect.objectContaining({ data: expect.objectContaining({ conversationId, kind: "welcome_refused" }) }),
    );

    // The real conversation goes on: alice's next message arrives, bob's reply reaches alice.
    const next = await alice.sendMessage({ conversationId, text: "after" });
    await until("bob reads alice's next message", () => messageOf(bob, conversationId, next.id));
    const reply = await bob.sendMessage({ conversationId, text: "reply" });
    await until("alice reads bob's reply", () => messageOf(alice, conversationId, reply.id));
  });

  it("takes a re-add after removal only from a member of the last state bob knew, and shows it", async () => {
    const { id: conversationId } = await alice.createConversation({ members: [bob.actorId] });
    await joined(bob, conversationId, "bob");
    await alice.removeMembers({ conversationId, members: [bob.actorId] });
    await until("bob sees he was removed", () => bob.getConversation(conversationId).left);

    // mallory "re-adds" him into her own group under that id: refused, the conversation stays as it was.
    const left = bob.getConversation(conversationId);
    let group = (await createConversation(mallory.engine(), { groupId: conversationId, members: [] }))
      .conversation;
    for (let i = 0; i < 3; i++) group = (await updateConversation(mallory.engine(), group)).conversation;
    const invite = await addMembers(mallory.engine(), group, [bob.actorId]);
    await mallory.send(invite.welcome as Uint8Array, [bob.actorId], conversationId);
    await until("bob refused mallory's Welcome", () =>
      alertsOf(conversationId).some((a) => a.kind === "welcome_refused"),
    );
    expect(bob.getConversation(conversationId)).toMatchObject({ left: true, epoch: left.epoch });

    // alice, a member of the state bob last knew, adds him back: taken, and shown.
    await alice.addMembers({ conversationId, members: [bob.actorId] });
    await until("bob is back", () => !bob.getConversation(conversationId).left);
    expect(alertsOf(conversationId)).toContainEqual(
      expect.objectContaining({ kind: "readded", actorId: alice.actorId }),
    );
    const back = await alice.sendMessage({ conversationId, text: "welcome back" });
    await until("bob reads alice again", () => messageOf(bob, conversationId, back.id));
  });

  it("refuses a Welcome into a group with a forged 'alice'", async () => {
    const forged = { [alice.actorId]: [await mallory.forgedKeyPackage(alice.actorId)] };
    const made = await createConversation(mallory.engine(forged), { members: [alice.actorId, bob.actorId] });
    const conversationId = made.conversation.groupId;
    const refusedBefore = bob.counters.get("skipped.welcome.authentication_failed");
    await mallory.send(made.welcome as Uint8Array, [bob.actorId], conversationId);

    await until(
      "bob handled mallory's Welcome",
      () =>
        bob.counters.get("skipped.welcome.authentication_failed") > refusedBefore ||
        bob.listConversations().conversations.some((c) => c.id === conversationId),
    );
    expect(bob.listConversations({ includeLeft: true }).conversations.map((c) => c.id)).not.toContain(
      conversationId,
    );
  });

  it("flags a forged 'alice' that a commit adds, and a member whose key cannot be checked", async () => {
    // mallory invites bob for real; her device key is listed nowhere (as with peers that consume every
    // KeyPackage): bob joins, and the conversation says she is not authenticated.
    const made = await createConversation(mallory.engine(), { members: [bob.actorId] });
    const conversationId = made.conversation.groupId;
    await mallory.send(made.welcome as Uint8Array, [bob.actorId], conversationId);
    await joined(bob, conversationId, "bob");
    expect(bob.getConversation(conversationId).authentication).toBe("uncheckable");
    expect(alertsOf(conversationId)).toContainEqual(
      expect.objectContaining({ kind: "member_uncheckable", actorId: mallory.actorId }),
    );
    // The CLI says so before sending (and sends), and shows the alert with the conversation.
    const api = await serveApi(bob, { stateDir: join(world().dir, "bob-data") });
    try {
      const sotto = async (argv: string[]) => {
        let stdout = "";
        let stderr = "";
        const code = await runCli(
          ["--url", api.url, "--token-file", join(world().dir, "bob-data", "api-token"), ...argv],
          { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} },
        );
        return { code, stdout, stderr };
      };
      const sent = await sotto(["send", conversationId, "are you really mallory?"]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stderr).toMatch(/^sotto: warning: a device in ".*" could not be authenticated/);
      expect(sent.stdout).toMatch(/^Queued /);
      const json = await sotto(["send", conversationId, "again", "--json"]);
      expect(JSON.parse(json.stderr).warning).toMatchObject({ code: "device_uncheckable" });
      const shown = await sotto(["chat", conversationId]);
      expect(shown.stdout).toContain("[unauthenticated device] [1 alert]");
      expect(shown.stdout).toMatch(
        /alerts:\n {2}\[.*\] a device of .* joined or changed its key and could not be authenticated/,
      );
      expect((await sotto(["history", conversationId])).stdout).toMatch(/^warning: a device in/);
    } finally {
      await api.close();
    }

    // Once her key is listed, a later message of hers clears the flag (bob reads a listing again at most
    // every few seconds: she keeps talking until he has).
    await mallory.publishKeyPackage();
    let group = made.conversation;
    await until(
      "bob checked mallory again",
      async () => {
        const note = createNote({ actor: mallory.actorId, html: "hi", published: new Date().toISOString() });
        const sent = await encryptMessage(group, writeApplicationData(note.activity));
        group = sent.conversation;
        await mallory.send(sent.message, [bob.actorId], conversationId);
        await new Promise((r) => setTimeout(r, 1_000));
        return bob.getConversation(conversationId).authentication === "authenticated";
      },
      60_000,
    );

    // Then she adds a leaf in alice's name whose key she holds. bob follows the group (refusing the commit
    // would fork him off it) and flags it: conversation, contact and an event.
    const forged = { [alice.actorId]: [await mallory.forgedKeyPackage(alice.actorId)] };
    const add = await addMembers(mallory.engine(forged), group, [alice.actorId]);
    await mallory.send(add.commit, [bob.actorId], conversationId, add.published);
    const flagged = await until("bob applied the commit", () => {
      const now = bob.getConversation(conversationId);
      return now.members.length === 3 ? now : undefined;
    });
    expect(flagged.authentication).toBe("contradicted");
    expect(flagged.alerts).toContainEqual(
      expect.objectContaining({ kind: "member_contradicted", actorId: alice.actorId }),
    );
    expect(securityEvents()).toContainEqual(
      expect.objectContaining({
        data: expect.objectContaining({
          conversationId,
          kind: "member_contradicted",
          actorId: alice.actorId,
        }),
      }),
    );
    const contact = await bob.getContact({ actor: alice.actorId });
    expect(contact.authentication).toBe("contradicted");
    // alice's real device, seen in the first conversation, stays authenticated.
    expect(contact.devices.map((d) => d.authentication).sort()).toEqual(["authenticated", "contradicted"]);
  });
});
