import { CodecError, CryptoError, CryptoVerificationError, MlsError } from "ts-mls/mlsError.js";
import { MlsEngineError, mlsError } from "./errors.js";

/** Maps what ts-mls (or node:crypto under it) throws on a bad message to one typed engine error. */
export function classify(cause: unknown): MlsEngineError {
  if (cause instanceof MlsEngineError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/gen in the past/i.test(message)) return mlsError("duplicate", "message already processed", cause);
  if (/epoch too old/i.test(message)) return mlsError("epoch_too_old", "keys of that epoch are gone", cause);
  if (/former epoch/i.test(message)) return mlsError("stale", "handshake message from a past epoch", cause);
  if (/leafnode for leafIndex|non-blank leaf|signer leafNode/i.test(message))
    return mlsError("not_member", "the sender is not a member of the group", cause);
  if (/credential/i.test(message)) return mlsError("authentication_failed", "credential refused", cause);
  if (cause instanceof CodecError) return mlsError("malformed", "message content does not decode", cause);
  if (
    cause instanceof CryptoVerificationError ||
    cause instanceof CryptoError ||
    /authenticate data|decrypt|OperationError/i.test(message)
  )
    return mlsError("undecryptable", "decryption or signature check failed", cause);
  if (cause instanceof MlsError) return mlsError("invalid", `message breaks an MLS rule: ${message}`, cause);
  return mlsError("invalid", "message could not be processed", cause);
}
