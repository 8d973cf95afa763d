// Incoming group messages: application data, proposals and commits, with the epoch rules of DESIGN.md §3
// (hold the future, refuse the replayed, settle concurrent commits on one winner).
import {
  type CiphersuiteImpl,
  type ClientState,
  emptyPskIndex,
  type MLSMessage,
  type MlsPrivateMessage,
  type MlsPublicMessage,
  type ProposalWithSender,
  processPrivateMessage,
  processPublicMessage,
} from "ts-mls";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { err, ok, type Result } from "../result.js";
import { classify } from "./classify.js";
import { bytesEqual, readMlsMessage, sha256Hex } from "./codec.js";
import {
  type Conversation,
  groupIdString,
  type Intent,
  type Member,
  memberAt,
  membershipChange,
  ownLeafIndex,
} from "./conversation.js";
import { FutureEpochError, type MlsEngineError, mlsError } from "./errors.js";
import { actorIdOf } from "./identity.js";
import { suiteImpl } from "./suite.js";

export interface IncomingMessage {
  /** MLSMessage bytes (PrivateMessage or PublicMessage) from the envelope. */
  readonly bytes: Uint8Array;
  /** `bytes` decoded already (the envelope's `message`): spares decoding them a second time. */
  readonly message?: MLSMessage | undefined;
  /** The envelope's `published`: orders concurrent commits. Missing sorts last. */
  readonly published?: Date | string;
}

export interface ProcessOptions {
  /**
   * Leave an application message's signature to the caller: the result carries it as `unverified`, and
   * nothing of the result may be used, nor its state kept, before `verifyDeferredSignature` accepts it. For a
   * thread that decrypts ahead of another with time to spare (apps/daemon's decrypt-ahead worker).
   */
  readonly deferSignature?: boolean;
}

/** The FramedContent signature of an application message (RFC 9420 §6.1), not verified yet. */
export interface DeferredSignature {
  /** The sender's leaf signature key. */
  readonly publicKey: Uint8Array;
  /** The SignContent: label "MLS 1.0 FramedContentTBS" and the FramedContentTBS (§5.1.2). */
  readonly content: Uint8Array;
  readonly signature: Uint8Array;
}

export type Received =
  | {
      readonly kind: "application";
      readonly conversation: Conversation;
      readonly data: Uint8Array;
      readonly sender: Member;
      readonly epoch: bigint;
      /** Only with `deferSignature`: the signature to verify before anything of this result is used. */
      readonly unverified?: DeferredSignature;
    }
  | {
      readonly kind: "proposal";
      readonly conversation: Conversation;
      readonly sender: Member;
      readonly proposal: ProposalSummary;
    }
  | {
      readonly kind: "commit";
      readonly conversation: Conversation;
      readonly sender: Member;
      /** The epoch the conversation is in now. */
      readonly epoch: bigint;
      readonly added: readonly Member[];
      readonly removed: readonly Member[];
      /** This device was removed: the conversation is closed. */
      readonly removedSelf: boolean;
      /** This device's own commit for the same epoch lost: commit this again with `reapplyIntent`. */
      readonly superseded?: Intent;
    };

export type ProposalSummary =
  | { readonly kind: "remove"; readonly member: Member; readonly selfRemove: boolean }
  | { readonly kind: "add"; readonly actorId: string }
  | { readonly kind: "update" }
  | { readonly kind: "other"; readonly type: string };

function millis(published: Date | string | undefined): number {
  const ms = published === undefined ? Number.NaN : new Date(published).getTime();
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
}

/** Deterministic order of two commits for one epoch: earlier `published`, then the lower SHA-256 of the bytes. */
export function commitPrecedes(
  a: { published: number; ref: string },
  b: { published: number; ref: string },
): boolean {
  return a.published !== b.published ? a.published < b.published : a.ref < b.ref;
}

function summarize(state: ClientState, p: ProposalWithSender): ProposalSummary {
  const { proposal } = p;
  if (!("proposalType" in proposal) || typeof proposal.proposalType !== "string")
    return { kind: "other", type: String(proposal.proposalType) };
  switch (proposal.proposalType) {
    case "remove": {
      const member = memberAt(state.ratchetTree, proposal.remove.removed);
      return member
        ? { kind: "remove", member, selfRemove: p.senderLeafIndex === proposal.remove.removed }
        : { kind: "other", type: "remove" };
    }
    case "add": {
      const { credential } = proposal.add.keyPackage.leafNode;
      return {
        kind: "add",
        actorId: actorIdOf(credential) ?? "",
      };
    }
    case "update":
      return { kind: "update" };
    default:
      return { kind: "other", type: proposal.proposalType };
  }
}

/** The secrets and tree to read a message of `epoch` with: the current epoch's or a retained past one's. */
function receiverView(state: ClientState, epoch: bigint) {
  if (epoch === state.groupContext.epoch)
    return { senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree };
  return state.historicalReceiverData.get(epoch);
}

type GroupMessage = MlsPrivateMessage | MlsPublicMessage;

function headerOf(message: GroupMessage) {
  if (message.wireformat === "mls_private_message") {
    const { groupId, epoch, contentType } = message.privateMessage;
    return { groupId, epoch, contentType };
  }
  const { groupId, epoch, contentType } = message.publicMessage.content;
  return { groupId, epoch, contentType };
}

export interface MessageHeader {
  readonly wireformat: "mls_private_message" | "mls_public_message";
  /** The group id as a string (`urn:uuid:…`), or undefined when it is not UTF-8. */
  readonly groupId: string | undefined;
  readonly epoch: bigint;
  readonly contentType: "application" | "proposal" | "commit";
}

/** The clear header of a group message: which conversation it belongs to, before any decryption. */
export function readMessageHeader(bytes: Uint8Array): Result<MessageHeader, MlsEngineError> {
  const decoded = readMlsMessage(bytes);
  if (!decoded.ok) return decoded;
  const message = decoded.value;
  if (message.wireformat !== "mls_private_message" && message.wireformat !== "mls_public_message")
    return err(mlsError("malformed", `a ${message.wireformat} is not a group message`));
  const { groupId, epoch, contentType } = headerOf(message);
  return ok({ wireformat: message.wireformat, groupId: groupIdString(groupId), epoch, contentType });
}

/**
 * The suite with its signature check recorded instead of made: the first `verify` call (an application
 * message makes exactly one, of its FramedContentTBS) is answered true and kept; any other is made for real.
 */
function deferringSuite(cs: CiphersuiteImpl): {
  readonly suite: CiphersuiteImpl;
  readonly deferred: () => DeferredSignature | undefined;
} {
  let deferred: DeferredSignature | undefined;
  const verify: CiphersuiteImpl["signature"]["verify"] = async (publicKey, content, signature) => {
    if (deferred !== undefined) return cs.signature.verify(publicKey, content, signature);
    deferred = { publicKey, content, signature };
    return true;
  };
  return { suite: { ...cs, signature: { ...cs.signature, verify } }, deferred: () => deferred };
}

/** Verifies a signature `processMessage` left to the caller (`deferSignature`). */
export async function verifyDeferredSignature(
  conversation: Conversation,
  deferred: DeferredSignature,
): Promise<boolean> {
  const cs = await suiteImpl(conversation.state.groupContext.cipherSuite);
  return cs.signature.verify(deferred.publicKey, deferred.content, deferred.signature).catch(() => false);
}

/** Runs one message through ts-mls against `conversation` as it is (same epoch, or a past one for data). */
async function apply(
  conversation: Conversation,
  message: GroupMessage,
  ref: string,
  published: number,
  options: ProcessOptions,
): Promise<Result<Received, MlsEngineError>> {
  const { state } = conversation;
  const cs = await suiteImpl(state.groupContext.cipherSuite);
  try {
    if (message.wireformat === "mls_public_message") {
      const pm = message.publicMessage;
      if (pm.content.sender.senderType !== "member")
        return err(mlsError("not_member", `${pm.content.sender.senderType} senders are not accepted`));
      if (pm.content.contentType === "application")
        return err(mlsError("invalid", "application data must come as PrivateMessage"));
      const sender = memberAt(state.ratchetTree, pm.content.sender.leafIndex);
      if (sender === undefined) return err(mlsError("not_member", "the sender is not a member of the group"));
      const result = await processPublicMessage(state, pm, emptyPskIndex, cs);
      return toReceived(conversation, result.newState, sender, pm.content.contentType, ref, published);
    }
    const pm = message.privateMessage;
    const view = receiverView(state, pm.epoch);
    if (view === undefined) return err(mlsError("epoch_too_old", `keys of epoch ${pm.epoch} are gone`));
    const senderData = await decryptSenderData(pm, view.senderDataSecret, cs);
    if (senderData === undefined) return err(mlsError("undecryptable", "sender data does not decrypt"));
    const sender = memberAt(view.ratchetTree, senderData.leafIndex);
    if (sender === undefined) return err(mlsError("not_member", "the sender is not a member of the group"));
    if (sender.leafIndex === ownLeafIndex(conversation) && pm.contentType !== "commit")
      return err(mlsError("duplicate", "this device's own message, delivered back"));
    const deferring =
      options.deferSignature === true && pm.contentType === "application" ? deferringSuite(cs) : undefined;
    const result = await processPrivateMessage(state, pm, emptyPskIndex, deferring?.suite ?? cs);
    const unverified = deferring?.deferred();
    if (result.kind === "applicationMessage")
      return ok({
        kind: "application",
        conversation: { ...conversation, state: result.newState },
        data: result.message,
        sender,
        epoch: pm.epoch,
        ...(unverified === undefined ? {} : { unverified }),
      });
    return toReceived(conversation, result.newState, sender, pm.contentType, ref, published);
  } catch (cause) {
    return err(classify(cause));
  }
}

function toReceived(
  conversation: Conversation,
  newState: ClientState,
  sender: Member,
  contentType: string,
  ref: string,
  published: number,
): Result<Received, MlsEngineError> {
  const before = conversation.state;
  if (contentType === "proposal") {
    const fresh = Object.entries(newState.unappliedProposals).filter(
      ([ref]) => !(ref in before.unappliedProposals),
    );
    const latest = fresh.at(-1)?.[1];
    return ok({
      kind: "proposal",
      conversation: { ...conversation, state: newState },
      sender,
      proposal: latest ? summarize(before, latest) : { kind: "other", type: "unknown" },
    });
  }
  const impostor = renamedLeaf(before, newState);
  if (impostor !== undefined)
    return err(mlsError("authentication_failed", `a commit changes the actor of leaf ${impostor}`));
  const { added, removed } = membershipChange(before.ratchetTree, newState.ratchetTree);
  return ok({
    kind: "commit",
    conversation: {
      ...conversation,
      state: newState,
      lastCommit: { epoch: before.groupContext.epoch, ref, published, byThisDevice: false, before },
    },
    sender,
    epoch: newState.groupContext.epoch,
    added,
    removed,
    removedSelf: newState.groupActiveState.kind === "removedFromGroup",
  });
}

/**
 * A leaf that an Update or a commit's UpdatePath gave another actor's identity: the Authentication Service
 * lets a device rotate its keys, never become someone else. Leaves added from KeyPackages were checked apart.
 */
function renamedLeaf(before: ClientState, after: ClientState): number | undefined {
  const nodeIndex = after.ratchetTree.findIndex((node, i) => {
    if (node?.nodeType !== "leaf" || node.leaf.leafNodeSource === "key_package") return false;
    const was = memberAt(before.ratchetTree, i / 2);
    return was !== undefined && was.actorId !== memberAt(after.ratchetTree, i / 2)?.actorId;
  });
  return nodeIndex < 0 ? undefined : nodeIndex / 2;
}

/**
 * Processes one PrivateMessage or PublicMessage of this conversation. Errors are returned, typed:
 * `future_epoch` (a FutureEpochError: hold the message and retry it after the next commit), `duplicate`,
 * `self_commit_echo`, `stale`, `epoch_too_old`, `not_member`, `wrong_group`, `malformed`, `undecryptable`,
 * `authentication_failed`, `invalid`. On error the conversation is unchanged.
 */
export async function processMessage(
  conversation: Conversation,
  incoming: IncomingMessage,
  options: ProcessOptions = {},
): Promise<Result<Received, MlsEngineError>> {
  const decoded = incoming.message === undefined ? readMlsMessage(incoming.bytes) : ok(incoming.message);
  if (!decoded.ok) return decoded;
  const message = decoded.value;
  if (message.wireformat !== "mls_private_message" && message.wireformat !== "mls_public_message")
    return err(mlsError("malformed", `a ${message.wireformat} is not a group message`));
  const { groupId, epoch, contentType } = headerOf(message);
  if (!bytesEqual(groupId, conversation.state.groupContext.groupId))
    return err(mlsError("wrong_group", "message for another group"));
  // A commit is identified by the hash of its bytes (which orders concurrent ones); other messages need none.
  const ref = contentType === "commit" ? sha256Hex(incoming.bytes) : "";
  const published = millis(incoming.published);
  const last = conversation.lastCommit;
  // A commit for the epoch of the last commit applied competes with it, even one that removed this device
  // (a removal on the losing side of a fork is undone when the winner arrives).
  if (contentType !== "commit" || last === undefined || last.epoch !== epoch) {
    if (conversation.state.groupActiveState.kind !== "active")
      return err(mlsError("not_member", "this device is no longer a member of the group"));
    const current = conversation.state.groupContext.epoch;
    if (epoch > current) return err(new FutureEpochError(epoch, current));
    if (epoch === current || contentType === "application")
      return apply(conversation, message, ref, published, options);
    return err(mlsError("stale", `handshake message for past epoch ${epoch}`));
  }
  if (ref === last.ref)
    return err(
      last.byThisDevice
        ? mlsError("self_commit_echo", "this device's own commit, delivered back")
        : mlsError("duplicate", "commit already applied"),
    );
  if (!commitPrecedes({ published, ref }, last))
    return err(mlsError("stale", `commit lost to the concurrent commit applied for epoch ${epoch}`));
  // The incoming commit wins: return to the state before ours and apply it instead.
  const rewound: Conversation = {
    groupId: conversation.groupId,
    handshake: conversation.handshake,
    state: last.before,
  };
  const result = await apply(rewound, message, ref, published, options);
  if (!result.ok || result.value.kind !== "commit") return result;
  return ok(last.byThisDevice && last.intent ? { ...result.value, superseded: last.intent } : result.value);
}
