// The Fediverse as the bridge sees it: actors found by handle, and for each XMPP user a device (a puppet
// actor on the gateway's domain holding an MLS device) that sends and receives application data in 1:1
// conversations. Implemented over sotto-server + the sottod engine in `puppets.ts`.
import type { Result } from "@sotto/core";
import type { AppActivity } from "./activity.js";
import type { BareJid } from "./addressing.js";
import type { FediverseError } from "./errors.js";

export interface FediverseActor {
  readonly handle: string;
  readonly actorId: string;
  readonly name?: string;
}

/** One decrypted application message for an XMPP user's puppet. */
export interface Received {
  readonly user: BareJid;
  readonly sender: FediverseActor;
  readonly conversationId: string;
  /** Every member actor of the conversation, the puppet included. */
  readonly members: readonly string[];
  /** The application data as JSON (an AS2 activity). */
  readonly data: unknown;
}

export interface FediverseSide {
  /** Finds an actor by `user@host` (WebFinger). */
  lookup(handle: string): Promise<Result<FediverseActor, FediverseError>>;
  /** Makes sure the XMPP user has a puppet (an actor and an MLS device with published KeyPackages). */
  ensurePuppet(user: BareJid): Promise<Result<{ readonly actorId: string }, FediverseError>>;
  /** Sends application data from the user's puppet to `peer`, in their 1:1 conversation (created on first use). */
  send(
    user: BareJid,
    peer: FediverseActor,
    activities: readonly AppActivity[],
  ): Promise<Result<void, FediverseError>>;
  /** Starts delivering received application data, in order per puppet; resolves once started. */
  start(receive: (received: Received) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}
