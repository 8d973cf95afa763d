// Typed errors of the gateway; each carries a `code` (SottoError) and never plaintext or secrets.
import { SottoError } from "@sotto/core";

/** A JID, handle or username that does not map. */
export class AddressError extends SottoError<"bad_jid" | "not_component" | "bad_handle" | "bad_username"> {}

/** An incoming stanza the gateway cannot or will not bridge; `condition` is the XMPP error condition to answer. */
export class StanzaError extends SottoError<
  "malformed" | "unsupported" | "not_allowed" | "unknown_recipient"
> {
  constructor(
    code: "malformed" | "unsupported" | "not_allowed" | "unknown_recipient",
    message: string,
    readonly condition:
      | "bad-request"
      | "not-acceptable"
      | "feature-not-implemented"
      | "not-allowed"
      | "item-not-found"
      | "service-unavailable"
      | "remote-server-not-found",
  ) {
    super(code, message);
  }
}

/** A change from the Fediverse that cannot be bridged (logged and skipped). */
export class ActivityError extends SottoError<"unknown_object" | "not_author" | "duplicate"> {}

/** The Fediverse side failed: an unknown actor, an unreachable server, an MLS failure. */
export class FediverseError extends SottoError<
  "unknown_actor" | "unknown_conversation" | "unreachable" | "mls" | "not_ready"
> {}

/** A file link an XMPP user sent cannot be carried: not http(s), unreachable, or beyond the inline limit. */
export class MediaError extends SottoError<"too_large" | "unreachable" | "bad_url"> {}
