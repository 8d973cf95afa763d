// What the daemon keeps about a conversation beside its MLS state, in the group record's sealed `info`.

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
  };
}

/** Reads `info` as stored, filling what older records lack. */
export function readConversationInfo(value: unknown, fallbackAt: number): ConversationInfo {
  const base = newConversationInfo(fallbackAt);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return base;
  return { ...base, ...(value as Partial<ConversationInfo>) };
}
