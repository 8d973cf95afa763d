// The Fediverse as the bridge sees it: actors found by handle, and for each XMPP user a puppet (an actor on the
// gateway's domain with its own MLS device) that performs operations and reports changes in 1:1 conversations.
// Implemented over sotto-server and sottod's engine in `puppets.ts`.
import type { Result } from "@sotto/core";
import type { BareJid } from "./addressing.js";
import type { FediverseError } from "./errors.js";
import type { FediverseChange, Operation } from "./mapping.js";
import type { MediaFile } from "./media.js";

export interface FediverseActor {
  readonly handle: string;
  readonly actorId: string;
  readonly name?: string;
}

/** The Fediverse side has a message the XMPP user sent: the puppet's outbox posted it. */
export interface Stored {
  readonly kind: "stored";
  readonly messageId: string;
}

/** A group's members and title as the puppet sees them once it joined the group, or after they changed. */
export interface Membership {
  readonly user: BareJid;
  readonly conversationId: string;
  /** The title its members share, null when it has none. */
  readonly title: string | null;
  /** The other members now. */
  readonly members: readonly FediverseActor[];
  readonly added: readonly FediverseActor[];
  readonly removed: readonly FediverseActor[];
}

/** A change seen by an XMPP user's puppet, in a conversation with `peer`. */
export interface Received {
  readonly user: BareJid;
  readonly peer: FediverseActor;
  readonly conversationId: string;
  /** How many members the conversation has, the puppet included (more than 2 = a group). */
  readonly memberCount: number;
  readonly change: FediverseChange | Stored;
}

export type Delivery = "done" | "retry";

/** A group conversation as a puppet sees it. */
export interface GroupView {
  readonly title: string | null;
  /** The other members. */
  readonly members: readonly FediverseActor[];
  /** Its messages, oldest first; `author` is undefined for the puppet's own. */
  readonly history: readonly {
    readonly messageId: string;
    readonly author?: FediverseActor;
    readonly content: string;
    readonly mediaType: string;
    readonly published: string;
  }[];
}

export interface FediverseSide {
  /** Finds an actor by `user@host` (WebFinger). */
  lookup(handle: string): Promise<Result<FediverseActor, FediverseError>>;
  /** Makes sure the XMPP user has a puppet (an actor with an MLS device and published KeyPackages). */
  ensurePuppet(user: BareJid): Promise<Result<{ readonly actorId: string }, FediverseError>>;
  /** An inline file of a message the puppet holds (undefined if none, or the message is gone). */
  file(user: BareJid, messageId: string, index: number): MediaFile | undefined;
  /** The puppet's current reactions to a message. */
  ownReactions(user: BareJid, messageId: string): readonly string[];
  /** Performs an operation in the 1:1 conversation with `peer` (created on first use); `send` gives the new id. */
  perform(
    user: BareJid,
    peer: FediverseActor,
    operation: Operation,
  ): Promise<Result<{ readonly messageId?: string }, FediverseError>>;
  /** Performs an operation in one of the puppet's conversations (a group). */
  performIn(
    user: BareJid,
    conversationId: string,
    operation: Operation,
  ): Promise<Result<{ readonly messageId?: string }, FediverseError>>;
  /** A group conversation of the puppet (members and the messages its store keeps). */
  group(user: BareJid, conversationId: string): Promise<Result<GroupView, FediverseError>>;
  /**
   * Starts reporting changes, in order per puppet (replaying what was not yet bridged); resolves once started.
   * `receive` answers `retry` when the change cannot be shown now (the XMPP link is down): it is offered again
   * later, and nothing after it is reported before.
   */
  start(receive: (received: Received | Membership) => Promise<Delivery>): Promise<void>;
  stop(): Promise<void>;
}
