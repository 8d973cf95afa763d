import type { DeferredSignature, Member } from "@sotto/core";

/**
 * What the main thread asks the decrypt-ahead worker, in order, batched in arrays. A chain (`token`) is one
 * group's run of application messages from a state the main thread had; `seq` numbers its messages from 0.
 */
export type AheadRequest =
  | { readonly op: "start"; readonly token: number; readonly state: Uint8Array }
  | {
      readonly op: "message";
      readonly token: number;
      readonly seq: number;
      readonly bytes: Uint8Array;
      readonly published: Date | string | undefined;
    }
  /** The encoded state after message `seq`; older states are dropped. */
  | { readonly op: "state"; readonly token: number; readonly seq: number }
  | { readonly op: "stop"; readonly token: number }
  /** Idle: the worker drops everything, gives its heap back (a last-resort collection) and exits. */
  | { readonly op: "end" };

/**
 * Where the main thread is: [token, seq] of the message it takes now, in memory both threads share (the
 * worker reads it before each message to decide who verifies that message's signature).
 */
export interface AheadWorkerData {
  readonly reached: Int32Array;
}

/** What the worker answers, batched in arrays. */
export type AheadReply =
  /** Loaded: chains started from now on get results without waiting for the worker to start. */
  | { readonly op: "ready" }
  | {
      readonly op: "result";
      readonly token: number;
      readonly seq: number;
      readonly ok: true;
      readonly sender: Member;
      readonly data: Uint8Array;
      readonly epoch: bigint;
      /** Left to the main thread (see the worker's LEAD): nothing of this result is used before it verifies. */
      readonly unverified?: DeferredSignature;
    }
  /** Not an application message of this state (an error, or the chain is unknown): the state did not move. */
  | { readonly op: "result"; readonly token: number; readonly seq: number; readonly ok: false }
  | {
      readonly op: "state";
      readonly token: number;
      readonly seq: number;
      readonly state: Uint8Array | undefined;
    };
