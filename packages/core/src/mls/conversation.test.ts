import type { RatchetTree } from "ts-mls";
import { describe, expect, it } from "vitest";
import { membershipChange } from "./conversation.js";

const leaf = (actor: string, key: number) =>
  ({
    nodeType: "leaf",
    leaf: {
      credential: { credentialType: "basic", identity: new TextEncoder().encode(actor) },
      signaturePublicKey: new Uint8Array(32).fill(key),
    },
  }) as unknown as NonNullable<RatchetTree[number]>;

describe("membershipChange", () => {
  const tree: RatchetTree = [leaf("a", 1), undefined, leaf("b", 2), undefined, leaf("c", 3)];

  it("finds nothing between a tree and itself or a copy of it", () => {
    expect(membershipChange(tree, tree)).toEqual({ added: [], removed: [] });
    expect(membershipChange(tree, tree.slice())).toEqual({ added: [], removed: [] });
  });

  it("keeps a leaf whose node was replaced with the same signature key (an update)", () => {
    const updated = tree.slice();
    updated[2] = leaf("b", 2);
    expect(membershipChange(tree, updated)).toEqual({ added: [], removed: [] });
  });

  it("reports a new key at an index as one removed and one added leaf, and blanked or grown leaves", () => {
    const after = tree.slice();
    after[2] = leaf("d", 4);
    after[4] = undefined;
    after.push(undefined, leaf("e", 5));
    const { added, removed } = membershipChange(tree, after);
    expect(added.map((m) => [m.leafIndex, m.actorId])).toEqual([
      [1, "d"],
      [3, "e"],
    ]);
    expect(removed.map((m) => [m.leafIndex, m.actorId])).toEqual([
      [1, "b"],
      [2, "c"],
    ]);
  });
});
