import { xml } from "@xmpp/component";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Prosody, startProsody } from "./prosody.js";
import { connectUser, loginUser, type XmppUser } from "./xmpp-user.js";

describe("test Prosody", () => {
  let prosody: Prosody;
  const users: XmppUser[] = [];
  beforeAll(async () => {
    prosody = await startProsody();
    prosody.register("alice", "pw-alice");
    prosody.register("bob", "pw-bob");
  });
  afterAll(async () => {
    for (const u of users) await u.stop();
    await prosody?.stop();
  });

  it("carries a chat message between two registered users on loopback", async () => {
    const alice = await loginUser(prosody, "alice");
    users.push(alice);
    const bob = await loginUser(prosody, "bob");
    users.push(bob);
    expect(alice.bare).toBe(`alice@${prosody.host}`);
    await alice.send(xml("message", { to: bob.bare, type: "chat", id: "m1" }, xml("body", {}, "hello bob")));
    const got = await bob.next((s) => s.is("message") && s.getChildText("body") !== null);
    expect(got.getChildText("body")).toBe("hello bob");
    expect(got.attrs.from).toBe(alice.jid);
  });

  it("refuses a wrong password", async () => {
    await expect(
      connectUser({ service: prosody.c2sService, domain: prosody.host, username: "alice", password: "nope" }),
    ).rejects.toThrow();
  });
});
