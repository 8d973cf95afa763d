import { SottoError } from "../errors.js";

/**
 * Why an MLS operation or an incoming MLS message was refused. The daemon decides what to do from the code:
 * `future_epoch` is held and retried, `duplicate` and `self_commit_echo` are dropped quietly, the rest are
 * recorded as failures of that one message.
 */
export type MlsErrorCode =
  /** The bytes do not decode as the MLS structure expected. */
  | "malformed"
  /** The message belongs to another group than the conversation it was given to. */
  | "wrong_group"
  /** A message already processed (a replayed application message, a commit already applied). */
  | "duplicate"
  /** A handshake message for an epoch this member has left behind (e.g. the losing side of a fork). */
  | "stale"
  /** An application message from an epoch whose keys are no longer kept. */
  | "epoch_too_old"
  /** A message for an epoch this member has not reached yet: hold it and retry after the next commit. */
  | "future_epoch"
  /** This device's own commit, delivered back to it. */
  | "self_commit_echo"
  /** A Welcome that holds no secrets for any KeyPackage of this device. */
  | "welcome_not_for_device"
  /** The sender has no leaf in the group (or the local member was removed). */
  | "not_member"
  /** The Authentication Service refused a credential or KeyPackage. */
  | "authentication_failed"
  /** Decryption or signature verification failed. */
  | "undecryptable"
  /** The message decodes and decrypts but breaks an MLS rule. */
  | "invalid"
  /** No usable KeyPackage, unknown suite, or an operation this member cannot do now. */
  | "unusable";

export class MlsEngineError extends SottoError<MlsErrorCode> {}

/** A message for a later epoch than the conversation's: the caller holds it and retries it after each commit. */
export class FutureEpochError extends MlsEngineError {
  readonly epoch: bigint;
  readonly currentEpoch: bigint;

  constructor(epoch: bigint, currentEpoch: bigint) {
    super("future_epoch", `message for epoch ${epoch}, conversation is at epoch ${currentEpoch}`);
    this.epoch = epoch;
    this.currentEpoch = currentEpoch;
  }
}

export function mlsError(code: MlsErrorCode, message: string, cause?: unknown): MlsEngineError {
  return new MlsEngineError(code, message, cause === undefined ? undefined : { cause });
}
