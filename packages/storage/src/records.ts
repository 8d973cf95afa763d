import type { JsonValue } from "./json.js";

/** A long-term private key of this device (e.g. the MLS signature key), with its public half. */
export interface DeviceKey {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
  readonly createdAt: number;
}

/** The private parts of a KeyPackage this device published; removed once a Welcome consumed it. */
export interface KeyPackageSecret {
  /** KeyPackageRef (hex or base64url), the row key. */
  readonly ref: string;
  /** The KeyPackage as published (public). */
  readonly keyPackage: Uint8Array;
  /** Its private parts (init and leaf HPKE private keys), as the MLS library encodes them. */
  readonly privateKey: Uint8Array;
  /** The ActivityPub object id it was published as, once known. */
  readonly objectId?: string | undefined;
  readonly createdAt: number;
  readonly expiresAt?: number | undefined;
  readonly lastResort?: boolean | undefined;
}

/** An MLS group this device is in: its encoded state (holds private keys), epoch and members. */
export interface GroupRecord {
  readonly id: string;
  readonly epoch: number;
  readonly state: Uint8Array;
  /** Actor ids of the members. */
  readonly members: readonly string[];
  /** Anything else the daemon keeps about the conversation (name, settings). */
  readonly info?: JsonValue | undefined;
}

/** What a group listing shows: everything but the (large, secret) state. */
export type GroupSummary = Omit<GroupRecord, "state"> & { readonly updatedAt: number };

export type MessageDirection = "in" | "out";
/** `received` for incoming messages; outgoing ones go `queued -> sent` or `-> failed`. */
export type MessageState = "received" | "queued" | "sent" | "failed";

/** A decrypted message. `id` is the activity / object id (or a local id for one not yet sent). */
export interface MessageRecord {
  readonly id: string;
  /** The group id of the conversation. */
  readonly conversation: string;
  readonly author: string;
  readonly at: number;
  readonly direction: MessageDirection;
  readonly state: MessageState;
  /** The decrypted application data. */
  readonly body: JsonValue;
}

/** A position in a conversation, for paging: messages are ordered by `at`, then `id`. */
export interface MessageCursor {
  readonly at: number;
  readonly id: string;
}

/** A message as read back: `body` is the latest edit, `null` once deleted. */
export interface StoredMessage extends Omit<MessageRecord, "body"> {
  readonly body: JsonValue | null;
  readonly editedAt: number | null;
  readonly deletedAt: number | null;
  readonly updatedAt: number;
}

export type MessageChangeKind = "edit" | "delete" | "reaction" | "unreaction";

/**
 * A change to a message, kept as history. `edit` replaces the body (the previous body is kept in
 * the history entry); `delete` erases the body and the content of earlier edits; reactions only
 * add history (`data` is the reaction, e.g. the emoji).
 */
export interface MessageChange {
  /** The change's activity id (dedupes it). */
  readonly id: string;
  readonly messageId: string;
  readonly kind: MessageChangeKind;
  readonly actor: string;
  readonly at: number;
  readonly data?: JsonValue | undefined;
}

export interface StoredMessageChange extends MessageChange {
  readonly data: JsonValue | null;
  /** For an edit: the body it replaced (erased by a later delete). */
  readonly previous: JsonValue | null;
}

export type Verification = "unverified" | "verified" | "changed";

/** One device (MLS client) of a contact. */
export interface ContactDevice {
  readonly fingerprint: string;
  readonly firstSeen: number;
  readonly keyPackage?: string | undefined;
  /** Whether its key is one the actor publishes, as last checked (the daemon's Authentication Service). */
  readonly authentication?: "authenticated" | "uncheckable" | "contradicted" | undefined;
  /** The fingerprint of the already verified device of the same actor that endorsed this one's KeyPackage. */
  readonly endorsedBy?: string | undefined;
  /** The name the device publishes with its KeyPackages (its `generator`'s `name`), when it gives one. */
  readonly name?: string | undefined;
}

export interface ContactRecord {
  readonly actor: string;
  readonly name?: string | undefined;
  readonly devices: readonly ContactDevice[];
  readonly verification: Verification;
}

export type OutboxState = "queued" | "sent" | "failed";

export interface OutboxItem {
  readonly id: string;
  readonly conversation: string | null;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly payload: JsonValue;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A change to the outbox queue. */
export type OutboxChange =
  | {
      readonly op: "enqueue";
      readonly id: string;
      readonly payload: JsonValue;
      readonly conversation?: string | undefined;
      /** When to try first; defaults to the unit's time. */
      readonly notBefore?: number | undefined;
    }
  | { readonly op: "sent"; readonly id: string }
  /** A failed attempt that will be retried: attempts + 1, stays queued until `nextAttemptAt`. */
  | { readonly op: "retry"; readonly id: string; readonly error: string; readonly nextAttemptAt: number }
  /** Given up: attempts + 1, state `failed`. */
  | { readonly op: "failed"; readonly id: string; readonly error: string }
  | { readonly op: "remove"; readonly id: string };

/**
 * A received message waiting for the Welcome or commit it needs. `rank` orders what is dropped when a quota
 * is reached: 0 a stranger, 1 a known contact, 2 a current member of the conversation; an item never makes
 * room by dropping one of a higher rank.
 */
export interface HeldItem {
  /** The activity id. */
  readonly id: string;
  /** The group id named by its MLS header. */
  readonly conversation: string;
  /** The epoch it is for, -1 while the group is not known. */
  readonly epoch: number;
  /** The actor the activity names ("" when none). */
  readonly sender: string;
  readonly rank: number;
  readonly activity: JsonValue;
}

export interface StoredHeld extends HeldItem {
  /** Bytes of the stored (sealed) activity, what the byte quotas count. */
  readonly bytes: number;
  readonly heldAt: number;
}

/** How much the store holds for messages waiting for their Welcome or commit (see `DEFAULT_HELD_LIMITS`). */
export interface HeldLimits {
  /** Items per conversation. */
  readonly perConversation: number;
  /** Items and bytes per sending actor. */
  readonly perSender: number;
  readonly perSenderBytes: number;
  /** Items and bytes in all. */
  readonly total: number;
  readonly totalBytes: number;
  /** Items older than this are dropped: what they wait for is not coming. */
  readonly maxAgeMs: number;
}

/** An event for the API's subscribers, as written. */
export interface EventInput {
  readonly type: string;
  readonly data: JsonValue;
}

/** An event as stored: `seq` grows by one per event and is never reused. */
export interface StoredEvent extends EventInput {
  readonly seq: number;
  readonly at: number;
}

/** A reading position in a collection (e.g. `{ name: "messages", position: <last activity id> }`). */
export interface Cursor {
  readonly name: string;
  readonly position: string;
}

/**
 * One unit of work, written by `Store.apply` in one transaction: all of it or none of it.
 * Everything is optional; lists are applied in the order below.
 */
export interface Unit {
  /**
   * The activity this unit processes. If it was processed before, `apply` writes nothing and
   * returns `applied: false` (replay is idempotent); otherwise it is recorded as processed.
   */
  readonly activityId?: string | undefined;
  /** The unit's time (ms since the epoch); defaults to the store's clock. */
  readonly at?: number | undefined;
  readonly deviceKeys?: readonly DeviceKey[] | undefined;
  readonly keyPackages?: readonly KeyPackageSecret[] | undefined;
  /** KeyPackageRefs whose private parts go (consumed by a Welcome, expired, replaced). */
  readonly keyPackagesRemoved?: readonly string[] | undefined;
  readonly groups?: readonly GroupRecord[] | undefined;
  readonly groupsRemoved?: readonly string[] | undefined;
  /** Inserted, or replacing the message with the same id. */
  readonly messages?: readonly MessageRecord[] | undefined;
  readonly messageChanges?: readonly MessageChange[] | undefined;
  readonly messageStates?: readonly { readonly id: string; readonly state: MessageState }[] | undefined;
  readonly contacts?: readonly ContactRecord[] | undefined;
  readonly contactsRemoved?: readonly string[] | undefined;
  readonly outbox?: readonly OutboxChange[] | undefined;
  /** `null` removes a setting. */
  readonly settings?: Readonly<Record<string, JsonValue | null>> | undefined;
  readonly cursor?: Cursor | undefined;
  readonly events?: readonly EventInput[] | undefined;
  /** Held messages taken off the list (applied, or given up), by activity id. */
  readonly heldRemoved?: readonly string[] | undefined;
  /** Messages to hold, within the store's `HeldLimits` (what they drop is in `ApplyResult.heldDropped`). */
  readonly held?: readonly HeldItem[] | undefined;
}

export interface ApplyResult {
  /** `false` when `activityId` had been processed already (nothing was written). */
  readonly applied: boolean;
  /** The events written, with their `seq`. */
  readonly events: readonly StoredEvent[];
  /**
   * Held messages this unit dropped to stay within the limits: evicted, expired, or one of `held` itself when
   * it could only fit by dropping items of a higher rank.
   */
  readonly heldDropped: readonly string[];
}

/** What `since` returns. `gap` says events after `after` were dropped by retention. */
export interface EventPage {
  readonly events: readonly StoredEvent[];
  readonly gap: { readonly from: number; readonly to: number } | null;
  /** The last seq written so far (0 when none). */
  readonly last: number;
}
