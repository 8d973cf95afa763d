import type { Member } from "@sotto/core";

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
    }
  /** Not an application message of this state (an error, or the chain is unknown): the state did not move. */
  | { readonly op: "result"; readonly token: number; readonly seq: number; readonly ok: false }
  | {
      readonly op: "state";
      readonly token: number;
      readonly seq: number;
      readonly state: Uint8Array | undefined;
    };
