import {
  actorIdOf,
  type Envelope,
  err,
  isJsonObject,
  isMlsObjectType,
  type JsonObject,
  normalizeTerms,
  ok,
  type Result,
  readEnvelope,
  typesOf,
} from "@sotto/core";
import { MlsDeliveryError } from "./errors.js";

/** Whether a document carries an MLS object (by type or media type), so that it must pass {@link validateMls}. */
export function carriesMls(activity: JsonObject): boolean {
  const object = normalizeTerms(isJsonObject(activity.object) ? activity.object : activity);
  return typesOf(object).some(isMlsObjectType) || object.mediaType === "message/mls";
}

export interface ValidateMlsOptions {
  /** The posting actor: the KeyPackage owner and message author must be this actor. */
  readonly actorId: string;
  /** Tells whether an addressed IRI is a collection the host knows of (followers, keyPackages...). */
  readonly isCollection?: (id: string) => boolean;
  /**
   * Whether the document must name its recipients (default true: a post to an outbox must). A delivery to a
   * personal inbox need not: a blind copy (bto/bcc) arrives without them.
   */
  readonly requireRecipients?: boolean;
}

/**
 * Validates an MLS activity (or bare object) with the envelope reader of @sotto/core: media type, encoding,
 * content that decodes to an MLS structure of the announced kind, the author, and the addressing (only actors
 * for messages; KeyPackages may go to Public).
 */
export function validateMls(
  document: JsonObject,
  options: ValidateMlsOptions,
): Result<Envelope, MlsDeliveryError> {
  const read = readEnvelope(document, options.isCollection ? { isCollection: options.isCollection } : {});
  if (!read.ok) {
    const { code, message } = read.error;
    if (code === "addressed_to_public" || code === "addressed_to_collection") {
      return err(new MlsDeliveryError(code, message));
    }
    if (code === "actor_mismatch") return err(new MlsDeliveryError("not_owner", message, 403));
    return err(new MlsDeliveryError("invalid_mls_object", `${code}: ${message}`));
  }
  const envelope = read.value;
  if (envelope.actor !== undefined && envelope.actor !== options.actorId) {
    return err(new MlsDeliveryError("not_owner", `${envelope.actor} is not the posting actor`, 403));
  }
  // The Authentication Service would refuse it anyway; a directory must not list one actor's key under another.
  if (envelope.message.wireformat === "mls_key_package") {
    const named = actorIdOf(envelope.message.keyPackage.leafNode.credential);
    if (named !== options.actorId) {
      return err(
        new MlsDeliveryError(
          "credential_mismatch",
          `the KeyPackage's credential names ${named ?? "no actor"}, not ${options.actorId}`,
          403,
        ),
      );
    }
  }
  if (
    options.requireRecipients !== false &&
    envelope.kind !== "key_package" &&
    envelope.recipients.length === 0
  ) {
    return err(new MlsDeliveryError("no_recipients", "an MLS message must name its recipient actors"));
  }
  return ok(envelope);
}
