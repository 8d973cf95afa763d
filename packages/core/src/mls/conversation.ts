import {
  type ClientConfig,
  type ClientState,
  decodeGroupState,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  encodeGroupState,
  type RatchetTree,
} from "ts-mls";
import { err, ok, type Result } from "../result.js";
import { memberAuthenticationService } from "./authentication.js";
import { toHex } from "./codec.js";
import { type MlsEngineError, mlsError } from "./errors.js";
import { actorIdOf } from "./identity.js";

/** How commits and proposals go on the wire: encrypted (default) or as PublicMessage for strict peers. */
export type HandshakeFraming = "private" | "public";

/** What a local commit meant to do, so the losing side of a concurrent commit can do it again. */
export type Intent =
  | { readonly kind: "add"; readonly actors: readonly string[] }
  | { readonly kind: "remove"; readonly actors: readonly string[] }
  | { readonly kind: "removeDevices"; readonly signatureKeys: readonly string[] }
  | { readonly kind: "update" };

/** The last commit applied to a conversation, with the state before it, to settle a concurrent commit. */
export interface AppliedCommit {
  /** The epoch the commit was made in (the conversation is now one later). */
  readonly epoch: bigint;
  /** SHA-256 (hex) of the commit's MLSMessage bytes. */
  readonly ref: string;
  /** The envelope's `published` in milliseconds, or +Infinity when it had none. */
  readonly published: number;
  readonly byThisDevice: boolean;
  readonly intent?: Intent;
  readonly before: ClientState;
}

/**
 * One conversation = one MLS group. An immutable value: every operation returns a new one, which the caller
 * stores (encodeConversation) before it sends or acknowledges anything.
 */
export interface Conversation {
  /** The group id as a string, e.g. `urn:uuid:…`; the envelope `context`. */
  readonly groupId: string;
  readonly state: ClientState;
  readonly handshake: HandshakeFraming;
  readonly lastCommit?: AppliedCommit;
}

/** One leaf of the group: a device of an actor. */
export interface Member {
  readonly leafIndex: number;
  readonly actorId: string;
  readonly signaturePublicKey: Uint8Array;
}

/** The ts-mls configuration every conversation runs with: ts-mls defaults except the credential check. */
export const clientConfig: ClientConfig = {
  keyRetentionConfig: defaultKeyRetentionConfig,
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
  authService: memberAuthenticationService,
};

function leafMember(tree: RatchetTree, nodeIndex: number): Member | undefined {
  const node = tree[nodeIndex];
  if (node?.nodeType !== "leaf") return undefined;
  return {
    leafIndex: nodeIndex / 2,
    actorId: actorIdOf(node.leaf.credential) ?? "",
    signaturePublicKey: node.leaf.signaturePublicKey,
  };
}

export function membersOf(tree: RatchetTree): Member[] {
  return tree.flatMap((_, nodeIndex) => leafMember(tree, nodeIndex) ?? []);
}

/** The member at a leaf index (leaves sit at even node indexes), or undefined for a blank leaf. */
export function memberAt(tree: RatchetTree, leafIndex: number): Member | undefined {
  return Number.isInteger(leafIndex) && leafIndex >= 0 ? leafMember(tree, leafIndex * 2) : undefined;
}

/**
 * Leaves gained and lost between two trees; a leaf is a device at an index (a re-used index is a new leaf).
 * Only leaves whose node object changed are compared: ts-mls replaces a node it changes, and a commit changes
 * a few leaves of a group of thousands.
 */
export function membershipChange(before: RatchetTree, after: RatchetTree) {
  const key = (m: Member) => `${m.leafIndex}:${toHex(m.signaturePublicKey)}`;
  const was: Member[] = [];
  const now: Member[] = [];
  for (let nodeIndex = 0; nodeIndex < Math.max(before.length, after.length); nodeIndex += 2) {
    if (before[nodeIndex] === after[nodeIndex]) continue;
    const gone = leafMember(before, nodeIndex);
    const come = leafMember(after, nodeIndex);
    if (gone !== undefined) was.push(gone);
    if (come !== undefined) now.push(come);
  }
  const wasKeys = new Set(was.map(key));
  const nowKeys = new Set(now.map(key));
  return { added: now.filter((m) => !wasKeys.has(key(m))), removed: was.filter((m) => !nowKeys.has(key(m))) };
}

/** The devices currently in the conversation, this one included. */
export function members(conversation: Conversation): Member[] {
  return membersOf(conversation.state.ratchetTree);
}

export function ownLeafIndex(conversation: Conversation): number {
  return conversation.state.privatePath.leafIndex;
}

export function epochOf(conversation: Conversation): bigint {
  return conversation.state.groupContext.epoch;
}

/** False once this device has been removed from the group. */
export function isActive(conversation: Conversation): boolean {
  return conversation.state.groupActiveState.kind === "active";
}

export function groupIdString(groupId: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(groupId);
  } catch {
    return undefined;
  }
}

const CONVERSATION_VERSION = 1;

interface Meta {
  groupId: string;
  handshake: HandshakeFraming;
  lastCommit?: {
    epoch: string;
    ref: string;
    published: number | null;
    byThisDevice: boolean;
    intent?: Intent;
  };
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Bytes for the store: version byte, then length-prefixed JSON metadata, the ts-mls group state, and the
 * pre-commit state when one is kept. Contains private keys: the store encrypts it.
 */
export function encodeConversation(conversation: Conversation): Uint8Array {
  const { lastCommit } = conversation;
  const meta: Meta = {
    groupId: conversation.groupId,
    handshake: conversation.handshake,
    ...(lastCommit && {
      lastCommit: {
        epoch: lastCommit.epoch.toString(),
        ref: lastCommit.ref,
        published: Number.isFinite(lastCommit.published) ? lastCommit.published : null,
        byThisDevice: lastCommit.byThisDevice,
        ...(lastCommit.intent && { intent: lastCommit.intent }),
      },
    }),
  };
  const metaBytes = new TextEncoder().encode(JSON.stringify(meta));
  const state = encodeGroupState(conversation.state);
  return concat([
    Uint8Array.of(CONVERSATION_VERSION),
    u32(metaBytes.length),
    metaBytes,
    u32(state.length),
    state,
    lastCommit ? encodeGroupState(lastCommit.before) : new Uint8Array(0),
  ]);
}

function decodeState(bytes: Uint8Array): ClientState {
  const decoded = decodeGroupState(bytes, 0);
  if (decoded === undefined || decoded[1] !== bytes.length)
    throw new TypeError("group state does not decode");
  return { ...decoded[0], clientConfig };
}

export function decodeConversation(bytes: Uint8Array): Result<Conversation, MlsEngineError> {
  if (bytes[0] !== CONVERSATION_VERSION)
    return err(mlsError("malformed", "unknown conversation state version"));
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const metaLength = view.getUint32(1);
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(5, 5 + metaLength))) as Meta;
    const stateAt = 5 + metaLength;
    const stateLength = view.getUint32(stateAt);
    const state = decodeState(bytes.subarray(stateAt + 4, stateAt + 4 + stateLength));
    const rest = bytes.subarray(stateAt + 4 + stateLength);
    const { lastCommit } = meta;
    return ok({
      groupId: meta.groupId,
      handshake: meta.handshake,
      state,
      ...(lastCommit && {
        lastCommit: {
          epoch: BigInt(lastCommit.epoch),
          ref: lastCommit.ref,
          published: lastCommit.published ?? Number.POSITIVE_INFINITY,
          byThisDevice: lastCommit.byThisDevice,
          ...(lastCommit.intent && { intent: lastCommit.intent }),
          before: decodeState(rest),
        },
      }),
    });
  } catch (cause) {
    return err(mlsError("malformed", "conversation state does not decode", cause));
  }
}
