// What one side of a 1:1 bridged conversation says to the other, in neither protocol's terms. Ids are the
// sender side's ids (an XMPP message id, or a Note id); the bridge maps them across.

/** A file linked from a message (XEP-0066); what is known of it. */
export interface Link {
  readonly url: string;
  readonly mediaType?: string;
  readonly name?: string;
  readonly size?: number;
}

export type Chat =
  | {
      readonly type: "message";
      readonly id: string;
      readonly text: string;
      /** The stanza's `id` when it differs from `id` (its origin-id): XEP-0308 corrections refer to it. */
      readonly alias?: string;
      /** The sender asks for a delivery receipt (XEP-0184). */
      readonly receipt?: true;
      /** Files sent with it (XEP-0066 out-of-band data; their URLs are not part of `text`). */
      readonly links?: readonly Link[];
    }
  | { readonly type: "correction"; readonly id: string; readonly replaces: string; readonly text: string }
  | { readonly type: "retraction"; readonly id: string; readonly retracts: string }
  /** XEP-0444 semantics: the full set of the sender's reactions to `to` (empty = none). */
  | {
      readonly type: "reactions";
      readonly id: string;
      readonly to: string;
      readonly emojis: readonly string[];
    }
  /** `received` = delivered (XEP-0184, Acknowledge); `displayed` = read (XEP-0333, Read). */
  | {
      readonly type: "receipt";
      readonly id: string;
      readonly of: string;
      readonly kind: "received" | "displayed";
    };
