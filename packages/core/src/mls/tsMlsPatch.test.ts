// The ts-mls patch (patches/ts-mls@1.6.4.patch, written up in patches/README.md): each change is checked
// against an independent computation from RFC 9420, and each test would fail on unpatched ts-mls 1.6.4
// (a stack overflow, a missing export, recomputed hashes, secrets kept for parent nodes, a discarded GroupInfo,
// sender data decrypted twice, a group context or an enum's reverse map recomputed per use).
import { createHmac, createPublicKey, verify } from "node:crypto";
import {
  type CiphersuiteImpl,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  generateKeyPackage,
  type Hash,
  joinGroup,
  processPrivateMessage,
  type RatchetTree,
} from "ts-mls";
import { decodeUint8, uint8Encoder } from "ts-mls/codec/number.js";
import { mapDecoderOption, mapDecoders } from "ts-mls/codec/tlsDecoder.js";
import { encode } from "ts-mls/codec/tlsEncoder.js";
import { varLenTypeEncoder } from "ts-mls/codec/variableLength.js";
import { encryptWithLabel } from "ts-mls/crypto/hpke.js";
import { encodeKdfLabel, encodeLabeledContent, expandWithLabel } from "ts-mls/crypto/kdf.js";
import { signWithLabel } from "ts-mls/crypto/signature.js";
import { type GroupContext, groupContextEncoder } from "ts-mls/groupContext.js";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { decodeRatchetTree, encodeRatchetTree, removeLeaves } from "ts-mls/ratchetTree.js";
import { createSecretTree } from "ts-mls/secretTree.js";
import { treeHashRoot } from "ts-mls/treeHash.js";
import { toLeafIndex } from "ts-mls/treemath.js";
import { enumNumberToKey } from "ts-mls/util/enumHelpers.js";
import { describe, expect, it } from "vitest";
import { DEFAULT_SUITE, suiteImpl } from "./suite.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

/** RFC 9000 variable-length integer, as RFC 9420 §2.1.2 uses for vector lengths. */
function varint(n: number): Uint8Array {
  if (n < 64) return Uint8Array.of(n);
  if (n < 16384) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  return Uint8Array.of(0x80 | (n >> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** KDFLabel of RFC 9420 §8, written out by hand. */
function referenceKdfLabel(length: number, label: string, context: Uint8Array): Uint8Array {
  const full = utf8(`MLS 1.0 ${label}`);
  return new Uint8Array(
    Buffer.concat([
      Uint8Array.of(length >> 8, length & 0xff),
      varint(full.length),
      full,
      varint(context.length),
      context,
    ]),
  );
}

/** ExpandWithLabel with HKDF-SHA256 for outputs of at most one block, on createHmac. */
function referenceExpand(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const info = referenceKdfLabel(length, label, context);
  return new Uint8Array(
    createHmac("sha256", secret).update(info).update(Uint8Array.of(1)).digest().subarray(0, length),
  );
}

/** A hash implementation that counts its digests. */
function counting(inner: Hash): Hash & { digests: number } {
  const hash = {
    digests: 0,
    digest: (data: Uint8Array) => {
      hash.digests++;
      return inner.digest(data);
    },
    mac: inner.mac,
    verifyMac: inner.verifyMac,
  };
  return hash;
}

/** The tree hash of `tree` computed cold: fresh node objects and a hash object no cache has seen. */
async function coldTreeHash(tree: RatchetTree, cs: CiphersuiteImpl): Promise<Uint8Array> {
  const decoded = decodeRatchetTree(encodeRatchetTree(tree), 0);
  if (decoded === undefined) throw new Error("tree does not decode");
  return treeHashRoot(decoded[0], counting(cs.hash));
}

async function keyPackage(name: string, cs: CiphersuiteImpl) {
  return generateKeyPackage(
    { credentialType: "basic", identity: utf8(name) },
    defaultCapabilities(),
    defaultLifetime,
    [],
    cs,
  );
}

/** A group of `size` ts-mls members (the first adds the others in one commit), every member's state. */
async function group(size: number, cs: CiphersuiteImpl): Promise<ClientState[]> {
  const creator = await keyPackage("m0", cs);
  const others = await Promise.all(Array.from({ length: size - 1 }, (_, i) => keyPackage(`m${i + 1}`, cs)));
  const created = await createGroup(
    utf8("patch-test"),
    creator.publicPackage,
    creator.privatePackage,
    [],
    cs,
  );
  const add = await createCommit(
    { state: created, cipherSuite: cs },
    {
      extraProposals: others.map((o) => ({
        proposalType: "add" as const,
        add: { keyPackage: o.publicPackage },
      })),
      ratchetTreeExtension: true,
    },
  );
  if (add.welcome === undefined) throw new Error("no Welcome");
  const welcome = add.welcome;
  const joined = await Promise.all(
    others.map((o) => joinGroup(welcome, o.publicPackage, o.privatePackage, emptyPskIndex, cs)),
  );
  return [add.newState, ...joined];
}

/** Member `committer` commits (an UpdatePath, and `extra` proposals); everyone else processes it. */
async function commitAndProcess(
  states: ClientState[],
  committer: number,
  cs: CiphersuiteImpl,
  extra: Parameters<typeof createCommit>[1] = {},
): Promise<ClientState[]> {
  const sender = states[committer] as ClientState;
  const { commit, newState } = await createCommit({ state: sender, cipherSuite: cs }, extra);
  if (commit.wireformat !== "mls_private_message") throw new Error("expected a PrivateMessage");
  return Promise.all(
    states.map(async (state, i) => {
      if (i === committer) return newState;
      if (state.groupActiveState.kind !== "active") return state;
      const result = await processPrivateMessage(state, commit.privateMessage, emptyPskIndex, cs);
      return result.newState;
    }),
  );
}

describe("ts-mls patch", async () => {
  const cs = await suiteImpl(DEFAULT_SUITE);

  it("encodes a vector of 100,000 items (the chained writers overflowed the stack past ~10,000)", () => {
    const items = Array.from({ length: 100_000 }, (_, i) => i % 251);
    const bytes = encode(varLenTypeEncoder(uint8Encoder))(items);
    expect(bytes.length).toBe(4 + items.length);
    expect([...bytes.subarray(0, 4)]).toEqual([...varint(items.length)]);
    expect(bytes.subarray(4)).toEqual(Uint8Array.from(items));
  });

  it("writes KDFLabel and ExpandWithLabel as RFC 9420 §8 does, for short and long labels and contexts", async () => {
    const secret = new Uint8Array(32).fill(7);
    for (const label of ["tree", "application", "x".repeat(70), "tree"])
      for (const context of [new Uint8Array(0), utf8("left"), new Uint8Array(300).fill(1)])
        for (const length of [12, 16, 32]) {
          expect(encodeKdfLabel(length, label, context)).toEqual(referenceKdfLabel(length, label, context));
          expect(await expandWithLabel(secret, label, context, length, cs.kdf)).toEqual(
            referenceExpand(secret, label, context, length),
          );
        }
    for (let i = 0; i < 100; i++)
      expect(encodeKdfLabel(32, `exporter ${i}`, utf8("c"))).toEqual(
        referenceKdfLabel(32, `exporter ${i}`, utf8("c")),
      );
  });

  it("writes SignContent and EncryptContext as RFC 9420 §5.1.2-3 do, and signs exactly those bytes", async () => {
    const reference = (label: string, content: Uint8Array) => {
      const full = utf8(`MLS 1.0 ${label}`);
      return new Uint8Array(Buffer.concat([varint(full.length), full, varint(content.length), content]));
    };
    for (const label of ["FramedContentTBS", "LeafNodeTBS", "y".repeat(70)])
      for (const n of [0, 63, 64, 300, 20_000]) {
        const content = new Uint8Array(n).fill(n % 251);
        expect(encodeLabeledContent(label, content)).toEqual(reference(label, content));
      }
    const { publicKey, signKey } = await cs.signature.keygen();
    const content = utf8("a FramedContentTBS");
    const signature = await signWithLabel(signKey, "FramedContentTBS", content, cs.signature);
    const key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
      format: "jwk",
    });
    expect(verify(null, reference("FramedContentTBS", content), key, signature)).toBe(true);
  });

  it("seals under one EncryptContext object while the label and context are the same (a Welcome to N members)", async () => {
    const infos: Uint8Array[] = [];
    const recording = {
      ...cs.hpke,
      seal: (publicKey: Parameters<typeof cs.hpke.seal>[0], plaintext: Uint8Array, info: Uint8Array) => {
        infos.push(info);
        return cs.hpke.seal(publicKey, plaintext, info);
      },
    };
    const { publicKey } = await cs.hpke.generateKeyPair();
    const groupInfo = new Uint8Array(5_000).fill(9);
    for (let i = 0; i < 3; i++) await encryptWithLabel(publicKey, "Welcome", groupInfo, utf8("s"), recording);
    await encryptWithLabel(publicKey, "Welcome", groupInfo.slice(), utf8("s"), recording);
    await encryptWithLabel(publicKey, "UpdatePathNode", groupInfo, utf8("s"), recording);
    const [first, second, third, copy, other] = infos;
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(copy).not.toBe(first);
    expect(copy).toEqual(first);
    const full = utf8("MLS 1.0 Welcome");
    expect(first).toEqual(
      new Uint8Array(Buffer.concat([varint(full.length), full, varint(5_000), groupInfo])),
    );
    expect(other?.subarray(1, 1 + 22)).toEqual(utf8("MLS 1.0 UpdatePathNode"));
  });

  it("encodes a GroupContext object once, and again when one of its fields is another value", async () => {
    let reads = 0;
    const extension = {
      extensionType: 0xff00,
      get extensionData() {
        reads++;
        return utf8("data");
      },
    };
    const context = {
      version: "mls10",
      cipherSuite: DEFAULT_SUITE,
      groupId: utf8("group"),
      epoch: 3n,
      treeHash: new Uint8Array(32).fill(1),
      confirmedTranscriptHash: new Uint8Array(32).fill(2),
      extensions: [extension],
    } as unknown as GroupContext;
    const first = encode(groupContextEncoder)(context);
    expect(reads).toBe(1);
    expect(encode(groupContextEncoder)(context)).toEqual(first);
    // the extensions were not encoded a second time
    expect(reads).toBe(1);
    // RFC 9420 §8.1: version, suite, groupId<V>, epoch, tree_hash<V>, confirmed_transcript_hash<V>, extensions<V>
    const reference = Buffer.concat([
      Uint8Array.of(0, 1, 0, 1),
      varint(5),
      utf8("group"),
      Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 3),
      varint(32),
      context.treeHash,
      varint(32),
      context.confirmedTranscriptHash,
      varint(7),
      Uint8Array.of(0xff, 0x00),
      varint(4),
      utf8("data"),
    ]);
    expect(first).toEqual(new Uint8Array(reference));
    // a changed field (ts-mls never does this, it makes a new object) is encoded afresh
    (context as { epoch: bigint }).epoch = 4n;
    const changed = encode(groupContextEncoder)(context);
    expect(changed[17]).toBe(4);
    expect(reads).toBe(2);
    expect(encode(groupContextEncoder)({ ...context, epoch: 3n })).toEqual(first);
  });

  it("builds an enum's reverse map once per decoder, and decodes multi-field structures in order", () => {
    let enumerations = 0;
    const table = new Proxy({ one: 1, two: 2, three: 3 } as Record<string, number>, {
      ownKeys(target) {
        enumerations++;
        return Reflect.ownKeys(target);
      },
    });
    const toKey = enumNumberToKey(table);
    expect([1, 2, 3, 4, 0].map(toKey)).toEqual(["one", "two", "three", undefined, undefined]);
    expect(enumerations).toBe(1);
    const decodeTwo = mapDecoders(
      [mapDecoderOption(decodeUint8, toKey), decodeUint8, mapDecoderOption(decodeUint8, toKey)],
      (a, b, c) => ({ a, b, c }),
    );
    expect(decodeTwo(Uint8Array.of(9, 2, 7, 3), 1)).toEqual([{ a: "two", b: 7, c: "three" }, 3]);
    expect(decodeTwo(Uint8Array.of(9, 5, 7, 3), 1)).toBeUndefined();
    expect(decodeTwo(Uint8Array.of(9, 2, 7), 1)).toBeUndefined();
    expect(enumerations).toBe(1);
  });

  it("derives a leaf's ratchets as RFC 9420 §9 does and keeps no secrets for parent nodes or blank leaves", async () => {
    const encryptionSecret = new Uint8Array(32).fill(3);
    const tree = await createSecretTree(8, encryptionSecret, cs.kdf);
    expect(tree).toHaveLength(15);
    // with the epoch's ratchet tree: members at leaves 0, 1, 2 and 5; leaves 3, 4, 6, 7 blank
    const members = (await group(2, cs))[0] as ClientState;
    const leaf = members.ratchetTree[0];
    const ratchetTree: RatchetTree = Array.from({ length: 15 }, (_, i) =>
      [0, 2, 4, 10].includes(i) ? leaf : undefined,
    );
    const sparse = await createSecretTree(8, encryptionSecret, cs.kdf, ratchetTree);
    expect(sparse).toHaveLength(15);
    for (let nodeIndex = 0; nodeIndex < 15; nodeIndex++)
      if ([0, 2, 4, 10].includes(nodeIndex)) expect(sparse[nodeIndex]).toEqual(tree[nodeIndex]);
      else {
        // blank leaves, and every parent, hold nothing
        expect(sparse[nodeIndex]?.application.secret).toHaveLength(0);
        expect(sparse[nodeIndex]?.handshake.secret).toHaveLength(0);
      }
    // tree_node_[N]_secret from the root (node 7) down, by hand
    const nodeSecret = new Map<number, Uint8Array>([[7, encryptionSecret]]);
    for (const [parent, level] of [
      [7, 3],
      [3, 2],
      [11, 2],
      [1, 1],
      [5, 1],
      [9, 1],
      [13, 1],
    ] as const) {
      const secret = nodeSecret.get(parent) as Uint8Array;
      nodeSecret.set(parent - (1 << (level - 1)), referenceExpand(secret, "tree", utf8("left"), 32));
      nodeSecret.set(parent + (1 << (level - 1)), referenceExpand(secret, "tree", utf8("right"), 32));
    }
    tree.forEach((node, nodeIndex) => {
      if (nodeIndex % 2 === 1) {
        expect(node.application.secret).toHaveLength(0);
        expect(node.handshake.secret).toHaveLength(0);
        return;
      }
      const secret = nodeSecret.get(nodeIndex) as Uint8Array;
      expect(node.application).toEqual({
        secret: referenceExpand(secret, "application", new Uint8Array(0), 32),
        generation: 0,
        unusedGenerations: {},
      });
      expect(node.handshake.secret).toEqual(referenceExpand(secret, "handshake", new Uint8Array(0), 32));
    });
  });

  it("hashes an unchanged tree again without digesting, and a changed one as a cold computation does", async () => {
    let states = await group(6, cs);
    const hash = counting(cs.hash);
    const tree = (states[0] as ClientState).ratchetTree;
    const first = await treeHashRoot(tree, hash);
    const coldDigests = hash.digests;
    expect(first).toEqual(await coldTreeHash(tree, cs));
    expect(first).toEqual((states[0] as ClientState).groupContext.treeHash);
    hash.digests = 0;
    expect(await treeHashRoot(tree, hash)).toEqual(first);
    // nothing is digested again, blank nodes included (the tree is padded with blank leaves)
    expect(tree.some((node) => node === undefined)).toBe(true);
    expect(hash.digests).toBe(0);

    // Each member commits in turn (new leaf and path), then one is removed: every state's tree hash (from
    // warm caches) is what a cold computation gives, and all members agree on it.
    for (const committer of [3, 1, 5]) {
      states = await commitAndProcess(states, committer, cs);
      hash.digests = 0;
      const now = (states[0] as ClientState).ratchetTree;
      const warm = await treeHashRoot(now, hash);
      expect(hash.digests).toBeLessThan(coldDigests);
      expect(warm).toEqual(await coldTreeHash(now, cs));
      for (const state of states) expect(state.groupContext.treeHash).toEqual(warm);
    }
    states = await commitAndProcess(states, 2, cs, {
      extraProposals: [{ proposalType: "remove", remove: { removed: 4 } }],
    });
    const afterRemove = states.filter((s) => s.groupActiveState.kind === "active");
    expect(afterRemove).toHaveLength(5);
    for (const state of afterRemove) {
      expect(await treeHashRoot(state.ratchetTree, hash)).toEqual(await coldTreeHash(state.ratchetTree, cs));
      expect(state.groupContext.treeHash).toEqual((afterRemove[0] as ClientState).groupContext.treeHash);
    }
  });

  it("does not take a cached hash for a node object seen at another index or above other subtrees", async () => {
    const states = await commitAndProcess(await group(4, cs), 0, cs);
    const tree = (states[0] as ClientState).ratchetTree;
    await treeHashRoot(tree, cs.hash); // warm every node
    const swapped = tree.slice();
    swapped[0] = tree[2];
    swapped[2] = tree[0];
    expect(await treeHashRoot(swapped, cs.hash)).toEqual(await coldTreeHash(swapped, cs));
    // parent node 1 (the creator's path) kept above a changed right subtree
    expect(tree[1]).toBeDefined();
    const moved = tree.slice();
    moved[2] = tree[6];
    expect(await treeHashRoot(moved, cs.hash)).toEqual(await coldTreeHash(moved, cs));
    // blank parent node 5: its left hash (leaf 2) is cached, its right subtree changes
    expect(tree[5]).toBeUndefined();
    const rightChanged = tree.slice();
    rightChanged[6] = tree[0];
    expect(await treeHashRoot(rightChanged, cs.hash)).toEqual(await coldTreeHash(rightChanged, cs));
    const blankRight = tree.slice();
    blankRight[6] = undefined;
    expect(await treeHashRoot(blankRight, cs.hash)).toEqual(await coldTreeHash(blankRight, cs));
  });

  it("keeps the parent node objects whose unmerged leaves stay when leaves are removed", async () => {
    // leaf 4 fills its path, then leaf 0 adds a member at leaf 5: a parent above leaf 5 keeps it as unmerged
    let states = await group(5, cs);
    states = await commitAndProcess(states, 4, cs);
    const added = await keyPackage("m5", cs);
    states = await commitAndProcess(states, 0, cs, {
      extraProposals: [{ proposalType: "add", add: { keyPackage: added.publicPackage } }],
    });
    const tree = (states[0] as ClientState).ratchetTree;
    const parents = tree.flatMap((node, i) => (node?.nodeType === "parent" ? [i] : []));
    const withUnmerged = parents.filter((i) => {
      const node = tree[i];
      return node?.nodeType === "parent" && node.parent.unmergedLeaves.length > 0;
    });
    expect(withUnmerged.length).toBe(1);
    const target = withUnmerged[0] as number;
    const before = tree[target];
    expect(before?.nodeType === "parent" && before.parent.unmergedLeaves).toEqual([5]);
    const unchanged = removeLeaves(tree, []);
    for (const i of parents) expect(unchanged[i]).toBe(tree[i]);
    const without = removeLeaves(tree, [toLeafIndex(5)]);
    expect(without[10]).toBeUndefined();
    for (const i of parents.filter((i) => i !== target)) expect(without[i]).toBe(tree[i]);
    const node = without[target];
    expect(node?.nodeType === "parent" && node.parent.unmergedLeaves).toEqual([]);
    expect(await treeHashRoot(without, cs.hash)).toEqual(await coldTreeHash(without, cs));
  });

  it("signs no GroupInfo for a commit that adds no one (it was built, encrypted and thrown away)", async () => {
    const [creator] = await group(3, cs);
    let signatures = 0;
    const counted: CiphersuiteImpl = {
      ...cs,
      signature: {
        ...cs.signature,
        sign: (key, message) => {
          signatures++;
          return cs.signature.sign(key, message);
        },
      },
    };
    const result = await createCommit(
      { state: creator as ClientState, cipherSuite: counted },
      { ratchetTreeExtension: true },
    );
    expect(result.welcome).toBeUndefined();
    // the UpdatePath's LeafNode and the commit's FramedContent
    expect(signatures).toBe(2);
  });

  it("decrypts a PrivateMessage's sender data once when a receiver reads the sender before processing it", async () => {
    const [alice, bob] = await group(2, cs);
    const sent = await createApplicationMessage(alice as ClientState, utf8("hello"), cs);
    let opened = 0;
    const counted: CiphersuiteImpl = {
      ...cs,
      hpke: {
        ...cs.hpke,
        decryptAead: (key, nonce, aad, ciphertext) => {
          opened++;
          return cs.hpke.decryptAead(key, nonce, aad, ciphertext);
        },
      },
    };
    const state = bob as ClientState;
    const senderData = await decryptSenderData(
      sent.privateMessage,
      state.keySchedule.senderDataSecret,
      counted,
    );
    expect(senderData?.leafIndex).toBe(0);
    expect(opened).toBe(1);
    const received = await processPrivateMessage(state, sent.privateMessage, emptyPskIndex, counted);
    expect(received.kind === "applicationMessage" && new TextDecoder().decode(received.message)).toBe(
      "hello",
    );
    // the content's AEAD only: the sender data was read once
    expect(opened).toBe(2);
    // another secret is another answer: a wrong one does not decrypt
    const other = new Uint8Array(state.keySchedule.senderDataSecret.length);
    await expect(decryptSenderData(sent.privateMessage, other, counted)).rejects.toThrow();
  });
});
