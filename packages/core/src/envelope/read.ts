// The lenient envelope reader (DESIGN.md §3): every shape peers send, one typed result.
import type { MLSMessage } from "ts-mls";
import { err, ok, type Result } from "../result.js";
import { type CiphersuiteName, readCiphersuite } from "../vocab/ciphersuite.js";
import { firstLinkId, linkId } from "../vocab/json.js";
import type { MlsObjectType } from "../vocab/schemas.js";
import { decodeBase64 } from "./base64.js";
import { locateMlsObject } from "./document.js";
import { EnvelopeError } from "./errors.js";
import { decodeMlsContent, type MlsKind } from "./mlsBytes.js";
import { readAddressing } from "./recipients.js";

export interface Envelope {
  /** From the decoded MLS wire format, never from the ActivityPub type. */
  readonly kind: MlsKind;
  /** The MLSMessage encoding of the content (a raw KeyPackage is framed). */
  readonly bytes: Uint8Array;
  /** The decoded MLSMessage, so receivers need not decode twice. */
  readonly message: MLSMessage;
  /** The ActivityPub type of the object, prefixes stripped (Emissary types commits `GroupInfo`). */
  readonly objectType: MlsObjectType;
  /** `Create`, `Update` or `Add` when the object came wrapped; undefined for a bare object. */
  readonly activityType?: string;
  /** The activity's `actor`, else the object's `attributedTo`. */
  readonly actor?: string;
  /** Every addressed actor of activity and object, deduplicated; Public is reported by `isPublic`. */
  readonly recipients: readonly string[];
  /** The group: the object's `context` (else the activity's). */
  readonly context?: string;
  readonly conversation?: string;
  readonly inReplyTo?: string;
  readonly activityId?: string;
  readonly objectId?: string;
  readonly published?: string;
  /** The `generator` id: the sending device's client. */
  readonly generator?: string;
  /** Emissary's `instrument` (its generator id, used to skip its own echoes). */
  readonly instrument?: string;
  readonly summary?: string;
  /** The `ciphersuite` a KeyPackage object declares (checked against its bytes). */
  readonly ciphersuite?: CiphersuiteName;
  readonly isPublic: boolean;
}

export interface ReadEnvelopeOptions {
  /** Tells whether an addressed IRI is a collection (e.g. a local actor's followers); MLS may not go there. */
  readonly isCollection?: (id: string) => boolean;
}

const notCollection = () => false;

/**
 * Reads an MLS envelope: a bare MLS object or one wrapped in Create/Update/Add, given as parsed JSON or as
 * JSON text. Never throws; every problem is an EnvelopeError naming the property at fault.
 */
export function readEnvelope(
  input: unknown,
  options: ReadEnvelopeOptions = {},
): Result<Envelope, EnvelopeError> {
  const located = locateMlsObject(input);
  if (!located.ok) return located;
  const { activity, activityType, object, objectType, path } = located.value;

  const bytes = decodeBase64(object.content as string);
  if (bytes === undefined) return err(new EnvelopeError("invalid_base64", "is not base64", `${path}content`));
  const decoded = decodeMlsContent(bytes, { rawKeyPackage: objectType === "KeyPackage" });
  if (!decoded.ok) {
    return err(
      new EnvelopeError("mls_decode_failed", `a ${objectType}'s content is not MLS`, `${path}content`),
    );
  }
  const { kind, message } = decoded.value;

  const actor = firstLinkId(activity?.actor);
  const attributedTo = firstLinkId(object.attributedTo);
  if (actor !== undefined && attributedTo !== undefined && actor !== attributedTo) {
    return err(
      new EnvelopeError("actor_mismatch", "the activity's actor is not the object's author", "actor"),
    );
  }

  const addressing = readAddressing([activity, object], options.isCollection ?? notCollection);
  if (!addressing.ok) return addressing;
  if (addressing.value.isPublic && kind !== "key_package") {
    return err(
      new EnvelopeError("addressed_to_public", "MLS messages must not be addressed to Public", "to"),
    );
  }

  const declared = object.ciphersuite === undefined ? undefined : readCiphersuite(object.ciphersuite);
  if (declared !== undefined && message.wireformat === "mls_key_package") {
    if (message.keyPackage.cipherSuite !== declared) {
      return err(
        new EnvelopeError(
          "ciphersuite_mismatch",
          `declares ${declared}, the KeyPackage is ${message.keyPackage.cipherSuite}`,
          "ciphersuite",
        ),
      );
    }
  }

  return ok({
    kind,
    bytes: decoded.value.bytes,
    message,
    objectType,
    activityType,
    actor: actor ?? attributedTo,
    recipients: addressing.value.recipients,
    context: linkId(object.context) ?? linkId(activity?.context),
    conversation: linkId(object.conversation),
    inReplyTo: linkId(object.inReplyTo),
    activityId: linkId(activity?.id),
    objectId: linkId(object.id),
    published: stringOf(activity?.published) ?? stringOf(object.published),
    generator: linkId(object.generator) ?? linkId(activity?.generator),
    instrument: firstLinkId(activity?.instrument) ?? firstLinkId(object.instrument),
    summary: stringOf(object.summary),
    ciphersuite: declared,
    isPublic: addressing.value.isPublic,
  });
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
