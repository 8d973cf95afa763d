import { SottoError } from "../errors.js";

/** What can be wrong with an incoming MLS-over-ActivityPub document. */
export const ENVELOPE_ERROR_CODES = [
  "invalid_json",
  "not_an_object",
  "unsupported_activity",
  "object_not_embedded",
  "not_mls_object",
  "invalid_property",
  "unsupported_encoding",
  "unsupported_media_type",
  "invalid_base64",
  "mls_decode_failed",
  "not_key_package",
  "unknown_ciphersuite",
  "ciphersuite_mismatch",
  "actor_mismatch",
  "addressed_to_public",
  "addressed_to_collection",
  "invalid_key_packages",
  "invalid_recipients",
] as const;
export type EnvelopeErrorCode = (typeof ENVELOPE_ERROR_CODES)[number];

/** A typed error naming the property (`path`) that is wrong, when there is one. */
export class EnvelopeError extends SottoError<EnvelopeErrorCode> {
  readonly path: string | undefined;

  constructor(code: EnvelopeErrorCode, message: string, path?: string) {
    super(code, path === undefined ? message : `${path}: ${message}`);
    this.path = path;
  }
}
