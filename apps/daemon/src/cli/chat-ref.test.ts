// `<chat>` resolution over a list of conversations: id, uuid prefix, title, a person's handle or actor id.
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
    expect(() =>
      resolveChat(
        [
          group,
          {
            ...group,
            id: "urn:uuid:44444444-0000-4000-8000-000000000000",
            members: [
              ...group.members.slice(0, 1),
              ...group.members.slice(2),
              { actorId: "https://d.example/users/dave", handle: null, displayName: null },
            ],
          },
        ],
        carol,
        alice,
      ),
    ).toThrow(expect.objectContaining({ code: "ambiguous" }));
    expect(resolveChat([withBob, group], "3333", alice)).toBe(group);
    expect(resolveChat([withBob, group], "urn:uuid:3333", alice)).toBe(group);
  });

  it("names the one-to-one chat by a person's handle, even when groups include them too", () => {
    expect(resolveChat([group, withBob], "@bob@b.example", alice)).toBe(withBob);
    expect(resolveChat([group, withBob], bob, alice)).toBe(withBob);
  });

  it("never takes a position in the list for a name: it would point at someone else once chats move", () => {
    expect(() => resolveChat([withBob, group], "2", alice)).toThrow(
      expect.objectContaining({ code: "no_match" }),
    );
    expect(() => resolveChat([withBob, withBobLater], "1", alice)).toThrow(
      expect.objectContaining({ code: "no_match" }),
    );
  });

  it("refuses a short id shared by several chats", () => {
    const twin = { ...withBobLater, id: "urn:uuid:11111111-9999-4000-8000-000000000000" };
    expect(() => resolveChat([withBob, twin], "1111", alice)).toThrow(
      expect.objectContaining({ code: "ambiguous" }),
    );
    expect(resolveChat([withBob, twin], "11111111-9", alice)).toBe(twin);
  });

  it("never matches this account's own handle", () => {
    expect(() => resolveChat([withBob], "@alice@a.example", alice)).toThrow(
      expect.objectContaining({ code: "no_match" }),
    );
  });
});
