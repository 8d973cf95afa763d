// What the daemon keeps about a conversation beside its MLS state, in the group record's sealed `info`.
import type { LeafAuthentication } from "@sotto/core";

/** Something about a conversation's members the user should see (@sotto/api's SecurityAlert). */
export interface SecurityAlert {
  readonly kind:
    | "welcome_refused"
    | "readded"
    | "member_uncheckable"
    | "member_contradicted"
    | "device_unendorsed";
  readonly actorId: string | null;
  readonly at: number;
}

/** How many alerts a conversation keeps (the latest). */
const MAX_ALERTS = 20;

export interface ConversationInfo {
  readonly title: string | null;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  readonly lastMessageId: string | null;
  /** This account's read marker (a message id) and how many messages from others came after it. */
  readonly readMarker: string | null;
  readonly unread: number;
  readonly left: boolean;
  /** The latest message each member said it read. */
  readonly receipts: Readonly<Record<string, string>>;
  /** Standing reactions by the id of their Like, so an Undo (which names only that id) finds its message. */
  readonly likes: Readonly<
    Record<string, { readonly messageId: string; readonly emoji: string; readonly actor: string }>
  >;
  /** Set when a verified contact in the conversation showed a new or changed device; cleared on verify. */
  readonly keyChanged: boolean;
  /** Other members' devices (signature key, hex) whose key could not be authenticated, and how. */
  readonly unauthenticated: Readonly<Record<string, Exclude<LeafAuthentication, "authenticated">>>;
  readonly alerts: readonly SecurityAlert[];
  /** Set when a member's commit could not be applied (the conversation is out of step with them). */
  readonly outOfStep: OutOfStep | null;
  /** Only on a device link group (see DeviceLink). */
  readonly link?: DeviceLink;
}

/**
 * Set on the small MLS group that links two devices of this account (devices.ts): it carries the link request,
 * the history catch-up and leaves, end to end encrypted; it is not a conversation the user sees.
 */
export interface DeviceLink {
  /** `existing`: this device holds the code; `new`: this device asked to be linked. */
  readonly role: "existing" | "new";
  /** The other device's signature key (hex): the new one on the existing side, the existing one(s) else. */
  readonly keys: readonly string[];
  readonly state: "requested" | "linked" | "removed";
  readonly comparison: string;
  readonly name: string | null;
  /** On the existing side: the new device's KeyPackages (base64), from its request. */
  readonly keyPackages?: readonly string[];
  readonly since: number;
}

export interface OutOfStep {
  readonly actor: string;
  readonly since: number;
  readonly reason: string;
}

export function newConversationInfo(at: number, title: string | null = null): ConversationInfo {
  return {
    title,
    createdAt: at,
    lastActivityAt: at,
    lastMessageId: null,
    readMarker: null,
    unread: 0,
    left: false,
    receipts: {},
    likes: {},
    keyChanged: false,
    unauthenticated: {},
    alerts: [],
    outOfStep: null,
  };
}

/** `info` with `alerts` added (the oldest dropped beyond the latest MAX_ALERTS). */
export function withAlerts(info: ConversationInfo, alerts: readonly SecurityAlert[]): ConversationInfo {
  return alerts.length === 0 ? info : { ...info, alerts: [...info.alerts, ...alerts].slice(-MAX_ALERTS) };
}

/** The least authenticated of the conversation's other devices. */
export function conversationAuthentication(info: ConversationInfo): LeafAuthentication {
  const outcomes = Object.values(info.unauthenticated);
  return outcomes.includes("contradicted")
    ? "contradicted"
    : outcomes.includes("uncheckable")
      ? "uncheckable"
      : "authenticated";
}

/** Reads `info` as stored, filling what older records lack. */
export function readConversationInfo(value: unknown, fallbackAt: number): ConversationInfo {
  const base = newConversationInfo(fallbackAt);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return base;
  return { ...base, ...(value as Partial<ConversationInfo>) };
}
