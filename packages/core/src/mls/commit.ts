// Local changes to a conversation: create, add, remove, update, leave. Each returns the new conversation and
// the bytes to send; nothing is sent or stored here.
import {
  type CiphersuiteName,
  createCommit,
  createGroup,
  createProposal,
  encodeMlsMessage,
  type Proposal,
} from "ts-mls";
import { generateKeyPackageWithKey } from "ts-mls/keyPackage.js";
import {
  type ActorFetcher,
  authenticateActorDevices,
  type DeviceKeyPackages,
  keyPackageFor,
} from "./authentication.js";
import { bytesEqual, sha256Hex, toHex } from "./codec.js";
import {
  type Conversation,
  clientConfig,
  type HandshakeFraming,
  type Intent,
  type Member,
  members,
  membershipChange,
  ownLeafIndex,
} from "./conversation.js";
import { MlsEngineError, mlsError } from "./errors.js";
import { credentialOf, type DeviceIdentity } from "./identity.js";
import { deviceCapabilities, seconds } from "./keyPackages.js";
import { negotiateSuite, SUPPORTED_SUITES, suiteImpl } from "./suite.js";

/** What every engine operation needs: this device, the network through one small interface, and the time. */
export interface EngineContext {
  readonly device: DeviceIdentity;
  readonly fetcher: ActorFetcher;
  /** Now. KeyPackage lifetimes are checked against it; it is also the `published` of commits made now. */
  readonly time: Date;
}

/** An actor to invite: all devices listed in its `keyPackages`, or only the given (still checked) KeyPackages. */
export type Invitee = string | { readonly actorId: string; readonly keyPackages: readonly Uint8Array[] };

export interface CommitOutcome {
  readonly conversation: Conversation;
  /** MLSMessage bytes of the commit, for `commitRecipients`. */
  readonly commit: Uint8Array;
  /** MLSMessage bytes of the Welcome (with the ratchet tree), for `welcomeRecipients`. */
  readonly welcome?: Uint8Array;
  /** Actors with a device in the group before this commit (removed ones included), this device excluded. */
  readonly commitRecipients: readonly string[];
  /** Actors with a device added by this commit. */
  readonly welcomeRecipients: readonly string[];
  readonly added: readonly Member[];
  readonly removed: readonly Member[];
  /** Write it as the envelope's `published`: concurrent commits are ordered by it on every member. */
  readonly published: Date;
}

export interface CreateConversationOptions {
  readonly members: readonly Invitee[];
  /** Defaults to `urn:uuid:` + a random UUID. */
  readonly groupId?: string;
  readonly handshake?: HandshakeFraming;
  /** Suites in order of preference, among SUPPORTED_SUITES. */
  readonly suites?: readonly CiphersuiteName[];
}

export interface CreatedConversation extends Omit<CommitOutcome, "commit" | "commitRecipients"> {}

const unique = (xs: readonly string[]) => [...new Set(xs)];

/** This actor's own devices (not this one) when listed; having none is fine, unlike for anyone else. */
async function ownOtherDevices(ctx: EngineContext): Promise<DeviceKeyPackages[]> {
  try {
    return await authenticateActorDevices(ctx.fetcher, ctx.device.actorId, ctx.time);
  } catch (cause) {
    if (cause instanceof MlsEngineError && cause.code === "authentication_failed") return [];
    throw cause;
  }
}

async function invitedDevices(ctx: EngineContext, invitees: readonly Invitee[], present: readonly Member[]) {
  const devices: DeviceKeyPackages[] = [];
  for (const invitee of invitees) {
    const found =
      typeof invitee !== "string"
        ? await authenticateActorDevices(ctx.fetcher, invitee.actorId, ctx.time, invitee.keyPackages)
        : invitee === ctx.device.actorId
          ? await ownOtherDevices(ctx)
          : await authenticateActorDevices(ctx.fetcher, invitee, ctx.time);
    devices.push(
      ...found.filter(
        (d) =>
          !bytesEqual(d.signaturePublicKey, ctx.device.signaturePublicKey) &&
          !present.some((m) => bytesEqual(m.signaturePublicKey, d.signaturePublicKey)),
      ),
    );
  }
  return devices;
}

function addProposals(devices: readonly DeviceKeyPackages[], suite: CiphersuiteName): Proposal[] {
  return devices.flatMap((device) => {
    const keyPackage = keyPackageFor(device, suite);
    return keyPackage ? [{ proposalType: "add", add: { keyPackage } } satisfies Proposal] : [];
  });
}

function encodeWelcome(
  welcome: NonNullable<Awaited<ReturnType<typeof createCommit>>["welcome"]>,
): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome });
}

async function commitProposals(
  ctx: EngineContext,
  conversation: Conversation,
  proposals: Proposal[],
  intent: Intent,
): Promise<CommitOutcome> {
  const cs = await suiteImpl(conversation.state.groupContext.cipherSuite);
  const before = members(conversation);
  let result: Awaited<ReturnType<typeof createCommit>>;
  try {
    result = await createCommit(
      { state: conversation.state, cipherSuite: cs },
      {
        extraProposals: proposals,
        ratchetTreeExtension: true,
        wireAsPublicMessage: conversation.handshake === "public",
      },
    );
  } catch (cause) {
    throw cause instanceof MlsEngineError ? cause : mlsError("unusable", "cannot create the commit", cause);
  }
  const commit = encodeMlsMessage(result.commit);
  const { added, removed } = membershipChange(conversation.state.ratchetTree, result.newState.ratchetTree);
  const self = ownLeafIndex(conversation);
  return {
    conversation: {
      ...conversation,
      state: result.newState,
      lastCommit: {
        epoch: conversation.state.groupContext.epoch,
        ref: sha256Hex(commit),
        published: ctx.time.getTime(),
        byThisDevice: true,
        intent,
        before: conversation.state,
      },
    },
    commit,
    ...(result.welcome && { welcome: encodeWelcome(result.welcome) }),
    commitRecipients: unique(before.filter((m) => m.leafIndex !== self).map((m) => m.actorId)),
    welcomeRecipients: unique(added.map((m) => m.actorId)),
    added,
    removed,
    published: ctx.time,
  };
}

/**
 * A new conversation with every device of every invited actor (this actor's other devices too), in the best
 * suite all of them offer. The creator's own KeyPackage is made here and never published.
 */
export async function createConversation(
  ctx: EngineContext,
  options: CreateConversationOptions,
): Promise<CreatedConversation> {
  const devices = await invitedDevices(ctx, options.members, []);
  const preferences = (options.suites ?? SUPPORTED_SUITES).filter((s) => SUPPORTED_SUITES.includes(s));
  const suite = negotiateSuite(
    devices.map((d) => d.keyPackages.map((kp) => kp.cipherSuite)),
    preferences,
  );
  const cs = await suiteImpl(suite);
  const now = seconds(ctx.time);
  const own = await generateKeyPackageWithKey(
    credentialOf(ctx.device.actorId),
    deviceCapabilities(),
    { notBefore: now - 3600n, notAfter: now + 3600n },
    [],
    { signKey: ctx.device.signaturePrivateKey, publicKey: ctx.device.signaturePublicKey },
    cs,
  );
  const groupId = options.groupId ?? `urn:uuid:${crypto.randomUUID()}`;
  const state = await createGroup(
    new TextEncoder().encode(groupId),
    own.publicPackage,
    own.privatePackage,
    [],
    cs,
    clientConfig,
  );
  const created: Conversation = { groupId, state, handshake: options.handshake ?? "private" };
  const proposals = addProposals(devices, suite);
  if (proposals.length === 0) {
    if (devices.length > 0) throw mlsError("unusable", `no invited device offers suite ${suite}`);
    return { conversation: created, welcomeRecipients: [], added: [], removed: [], published: ctx.time };
  }
  const actors = unique(devices.map((d) => d.actorId));
  const {
    commit: _commit,
    commitRecipients: _none,
    ...outcome
  } = await commitProposals(ctx, created, proposals, {
    kind: "add",
    actors,
  });
  // Nobody else was in the group before: the creation commit goes to no one and cannot race.
  const { lastCommit: _lastCommit, ...conversation } = outcome.conversation;
  return { ...outcome, conversation };
}

/** Adds every device (not yet in the group) of the invited actors. */
export async function addMembers(
  ctx: EngineContext,
  conversation: Conversation,
  invitees: readonly Invitee[],
): Promise<CommitOutcome> {
  const devices = await invitedDevices(ctx, invitees, members(conversation));
  const proposals = addProposals(devices, conversation.state.groupContext.cipherSuite);
  if (proposals.length === 0) throw mlsError("unusable", "no new device to add");
  return commitProposals(ctx, conversation, proposals, {
    kind: "add",
    actors: unique(devices.map((d) => d.actorId)),
  });
}

function removeProposals(conversation: Conversation, leave: (m: Member) => boolean): Proposal[] {
  const self = ownLeafIndex(conversation);
  return members(conversation)
    .filter((m) => m.leafIndex !== self && leave(m))
    .map((m) => ({ proposalType: "remove", remove: { removed: m.leafIndex } }));
}

/** Removes every device of the given actors (this device excepted: to go, use `leaveConversation`). */
export async function removeMembers(
  ctx: EngineContext,
  conversation: Conversation,
  actorIds: readonly string[],
): Promise<CommitOutcome> {
  const proposals = removeProposals(conversation, (m) => actorIds.includes(m.actorId));
  if (proposals.length === 0) throw mlsError("unusable", "none of these actors is a member");
  return commitProposals(ctx, conversation, proposals, { kind: "remove", actors: actorIds });
}

/** Removes single devices (leaves) by signature key, e.g. an own device that was lost. */
export async function removeDevices(
  ctx: EngineContext,
  conversation: Conversation,
  signatureKeys: readonly Uint8Array[],
): Promise<CommitOutcome> {
  const wanted = signatureKeys.map(toHex);
  const proposals = removeProposals(conversation, (m) => wanted.includes(toHex(m.signaturePublicKey)));
  if (proposals.length === 0) throw mlsError("unusable", "none of these devices is a member");
  return commitProposals(ctx, conversation, proposals, { kind: "removeDevices", signatureKeys: wanted });
}

/** A commit with a fresh UpdatePath: new leaf and path keys (post-compromise security). */
export async function updateConversation(
  ctx: EngineContext,
  conversation: Conversation,
): Promise<CommitOutcome> {
  return commitProposals(ctx, conversation, [], { kind: "update" });
}

/** Commits the proposals received so far (e.g. members asking to leave). */
export async function commitPendingProposals(
  ctx: EngineContext,
  conversation: Conversation,
): Promise<CommitOutcome> {
  const pending = Object.values(conversation.state.unappliedProposals);
  if (pending.length === 0) throw mlsError("unusable", "no pending proposal");
  const leaving = new Set(
    pending.flatMap((p) => (p.proposal.proposalType === "remove" ? [p.proposal.remove.removed] : [])),
  );
  const signatureKeys = members(conversation)
    .filter((m) => leaving.has(m.leafIndex))
    .map((m) => toHex(m.signaturePublicKey));
  return commitProposals(
    ctx,
    conversation,
    [],
    signatureKeys.length > 0 ? { kind: "removeDevices", signatureKeys } : { kind: "update" },
  );
}

/**
 * Does again what a commit that lost a concurrent race meant to do, in the winning epoch. Undefined when
 * nothing is left to do (the winner already did it).
 */
export async function reapplyIntent(
  ctx: EngineContext,
  conversation: Conversation,
  intent: Intent,
): Promise<CommitOutcome | undefined> {
  const present = members(conversation);
  switch (intent.kind) {
    case "add": {
      const devices = await invitedDevices(ctx, intent.actors, present);
      const proposals = addProposals(devices, conversation.state.groupContext.cipherSuite);
      return proposals.length === 0 ? undefined : commitProposals(ctx, conversation, proposals, intent);
    }
    case "remove": {
      const proposals = removeProposals(conversation, (m) => intent.actors.includes(m.actorId));
      return proposals.length === 0 ? undefined : commitProposals(ctx, conversation, proposals, intent);
    }
    case "removeDevices": {
      const proposals = removeProposals(conversation, (m) =>
        intent.signatureKeys.includes(toHex(m.signaturePublicKey)),
      );
      return proposals.length === 0 ? undefined : commitProposals(ctx, conversation, proposals, intent);
    }
    case "update":
      return commitProposals(ctx, conversation, [], intent);
  }
}

export interface LeaveOutcome {
  readonly conversation: Conversation;
  /** MLSMessage bytes of a Remove proposal for this device's own leaf, for `recipients`; a member commits it. */
  readonly proposal: Uint8Array;
  readonly recipients: readonly string[];
}

/** Asks to leave: a self-remove proposal, which another member commits (RFC 9420 forbids self-commit). */
export async function leaveConversation(conversation: Conversation): Promise<LeaveOutcome> {
  const cs = await suiteImpl(conversation.state.groupContext.cipherSuite);
  const self = ownLeafIndex(conversation);
  const { newState, message } = await createProposal(
    conversation.state,
    conversation.handshake === "public",
    { proposalType: "remove", remove: { removed: self } },
    cs,
  ).catch((cause: unknown) => {
    throw mlsError("unusable", "cannot create the leave proposal", cause);
  });
  return {
    conversation: { ...conversation, state: newState },
    proposal: encodeMlsMessage(message),
    recipients: unique(
      members(conversation)
        .filter((m) => m.leafIndex !== self)
        .map((m) => m.actorId),
    ),
  };
}
