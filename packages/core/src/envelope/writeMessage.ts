// The conservative outgoing shape (DESIGN.md §3): what every known peer reads.
import { ACTIVITYSTREAMS_CONTEXT, isPublicCollection, MLS_CONTEXT } from "../vocab/context.js";
import type { MlsObjectType } from "../vocab/schemas.js";
import { encodeBase64 } from "./base64.js";
import { EnvelopeError } from "./errors.js";
import { type MlsKind, peekKind } from "./mlsBytes.js";

export const MLS_JSON_LD_CONTEXT = [ACTIVITYSTREAMS_CONTEXT, MLS_CONTEXT] as const;

const OBJECT_TYPE_BY_KIND: Record<Exclude<MlsKind, "key_package">, MlsObjectType> = {
  public_message: "PublicMessage",
  private_message: "PrivateMessage",
  welcome: "Welcome",
  group_info: "GroupInfo",
};

const SUMMARY_BY_TYPE: Record<MlsObjectType, string> = {
  PublicMessage: "This is an MLS public message (a group change, signed but not encrypted).",
  PrivateMessage: "This is an end-to-end encrypted message.",
  Welcome: "This is an invitation to an end-to-end encrypted conversation.",
  GroupInfo: "This is information about an end-to-end encrypted conversation.",
  KeyPackage: "This is a key package for starting end-to-end encrypted conversations.",
};

export function defaultSummary(type: MlsObjectType): string {
  return `${SUMMARY_BY_TYPE[type]} See https://swicg.github.io/activitypub-e2ee/ for how to read it (Messaging Layer Security over ActivityPub).`;
}

export interface Generator {
  readonly id: string;
  readonly name?: string;
}

export interface MessageCreateInput {
  /** The sending actor (also the object's `attributedTo`). */
  readonly actor: string;
  /** Every member actor, explicitly (the own actor too when it has other devices in the group). */
  readonly recipients: readonly string[];
  /** An MLSMessage encoding: PublicMessage, PrivateMessage, Welcome or GroupInfo. */
  readonly bytes: Uint8Array;
  /** The group id string (`urn:uuid:...`). */
  readonly context: string;
  readonly activityId?: string;
  readonly objectId?: string;
  readonly published?: string;
  readonly summary?: string;
  readonly generator?: Generator;
}

export interface MlsMessageObject {
  readonly type: MlsObjectType;
  readonly id?: string;
  readonly attributedTo: string;
  readonly to: readonly string[];
  readonly mediaType: "message/mls";
  readonly encoding: "base64";
  readonly content: string;
  readonly context: string;
  readonly summary: string;
  readonly published?: string;
  readonly generator?: { readonly id: string; readonly type: "Application"; readonly name?: string };
}

export interface MessageCreateActivity {
  readonly "@context": typeof MLS_JSON_LD_CONTEXT;
  readonly type: "Create";
  readonly id?: string;
  readonly actor: string;
  readonly to: readonly string[];
  readonly context: string;
  readonly published?: string;
  readonly object: MlsMessageObject;
}

export function generatorNode(generator: Generator): { id: string; type: "Application"; name?: string } {
  return generator.name === undefined
    ? { id: generator.id, type: "Application" }
    : { id: generator.id, type: "Application", name: generator.name };
}

/**
 * Builds the Create envelope for an outgoing MLS message. Throws EnvelopeError for caller mistakes (no
 * recipient, Public among them, bytes that are not a message MLSMessage): these are bugs, not network input.
 */
export function writeMessageCreate(input: MessageCreateInput): MessageCreateActivity {
  const to = [...new Set(input.recipients)];
  if (to.length === 0) throw new EnvelopeError("invalid_recipients", "an MLS message needs recipients", "to");
  if (to.some(isPublicCollection)) {
    throw new EnvelopeError("addressed_to_public", "MLS messages must not be addressed to Public", "to");
  }
  const kind = peekKind(input.bytes);
  if (kind === undefined || kind === "key_package") {
    throw new EnvelopeError("mls_decode_failed", "is not an MLSMessage carrying a message", "content");
  }
  const type = OBJECT_TYPE_BY_KIND[kind];
  const object: MlsMessageObject = {
    type,
    ...(input.objectId === undefined ? {} : { id: input.objectId }),
    attributedTo: input.actor,
    to,
    mediaType: "message/mls",
    encoding: "base64",
    content: encodeBase64(input.bytes),
    context: input.context,
    summary: input.summary ?? defaultSummary(type),
    ...(input.published === undefined ? {} : { published: input.published }),
    ...(input.generator === undefined ? {} : { generator: generatorNode(input.generator) }),
  };
  return {
    "@context": MLS_JSON_LD_CONTEXT,
    type: "Create",
    ...(input.activityId === undefined ? {} : { id: input.activityId }),
    actor: input.actor,
    to,
    context: input.context,
    ...(input.published === undefined ? {} : { published: input.published }),
    object,
  };
}
