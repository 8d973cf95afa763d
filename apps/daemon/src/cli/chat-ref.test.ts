// `<chat>` resolution over a list of conversations: number, id, uuid prefix, title, a member's handle or actor id.
import type { Conversation } from "@sotto/api";
import { describe, expect, it } from "vitest";
import { resolveChat } from "./chat-ref.js";

const alice = "https://a.example/users/alice";
const bob = "https://b.example/users/bob";
const carol = "https://c.example/users/carol";

function chat(
  id: string,
  members: [string, string | null][],
  lastActivityAt: string,
  title: string | null = null,
): Conversation {
  return {
    id: `urn:uuid:${id}`,
    title,
    members: members.map(([actorId, handle]) => ({ actorId, handle, displayName: null })),
    createdAt: "2026-01-01T00:00:00Z",
    lastActivityAt,
    lastMessageId: null,
    unread: 0,
    epoch: 1,
    left: false,
  };
}

const withBob = chat(
  "11111111-0000-4000-8000-000000000000",
  [
    [alice, "@alice@a.example"],
    [bob, "@bob@b.example"],
  ],
  "2026-01-02T00:00:00Z",
);
const withBobLater = chat(
  "22222222-0000-4000-8000-000000000000",
  [
    [alice, "@alice@a.example"],
    [bob, "@bob@b.example"],
  ],
  "2026-01-03T00:00:00Z",
);
const group = chat(
  "33333333-0000-4000-8000-000000000000",
  [
    [alice, "@alice@a.example"],
    [bob, "@bob@b.example"],
    [carol, null],
  ],
  "2026-01-01T00:00:00Z",
);

describe("resolveChat", () => {
  it("matches a member's handle in any spelling, and their actor id", () => {
    for (const ref of ["@bob@b.example", "bob@b.example", "@BOB@b.example", "acct:bob@b.example"]) {
      expect(resolveChat([withBob], ref, alice)).toBe(withBob);
    }
    expect(resolveChat([withBob, group], carol, alice)).toBe(group);
    // Carol's handle is not in the list: findChat then asks the daemon for her actor id.
    expect(() => resolveChat([withBob, group], "@carol@c.example", alice)).toThrow(
      expect.objectContaining({ code: "no_match" }),
    );
  });

  it("takes the latest of several chats with the same people, and refuses to guess between different ones", () => {
    expect(resolveChat([withBob, withBobLater], "@bob@b.example", alice)).toBe(withBobLater);
    expect(() => resolveChat([withBob, group], "@bob@b.example", alice)).toThrow(
      expect.objectContaining({ code: "ambiguous" }),
    );
    expect(resolveChat([withBob, group], "2", alice)).toBe(group);
    expect(resolveChat([withBob, group], "3333", alice)).toBe(group);
  });

  it("never matches this account's own handle", () => {
    expect(() => resolveChat([withBob], "@alice@a.example", alice)).toThrow(
      expect.objectContaining({ code: "no_match" }),
    );
  });
});
