import type { Account as C2SAccount } from "@sotto/activitypub";
import type { DeviceIdentity, Generator } from "@sotto/core";
import type { ApplyResult, Store, Unit } from "@sotto/storage";
import type { ActorDirectory } from "./actors.js";
import type { Counters } from "./counters.js";
import type { DecryptAhead } from "./decryptAhead.js";
import type { LoadedConversation } from "./groups.js";
import type { Logger } from "./log.js";
import type { Serial } from "./serial.js";

/** How the daemon reaches the network; stored with the account so `run` connects the way `init` did. */
export interface NetworkSettings {
  /** Allow loopback and private addresses (tests, a LAN); refused by default. */
  readonly allowPrivateAddress?: boolean;
  /** WebFinger over plain HTTP (loopback test servers only). */
  readonly plainHttpWebFinger?: boolean;
  readonly timeoutMs?: number;
}

/** The account this daemon is the device of; kept sealed in the store's settings (the token is a secret). */
export interface AccountSettings {
  readonly actorId: string;
  readonly handle: string;
  readonly displayName: string | null;
  readonly token: string;
  /** The actor's `keyPackages` collection: the `target` of Add and Remove. */
  readonly keyPackagesUrl: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly network: NetworkSettings;
}

/** What the parts of a running daemon share. */
export interface DaemonContext {
  readonly store: Store;
  readonly settings: AccountSettings;
  readonly device: DeviceIdentity;
  readonly generator: Generator;
  readonly account: C2SAccount;
  readonly directory: ActorDirectory;
  readonly log: Logger;
  readonly counters: Counters;
  /** Every change of MLS state runs through this, one at a time. */
  readonly serial: Serial;
  readonly now: () => number;
  readonly maxAttachmentBytes: number;
  /** How long the second remaining member waits before committing a leave itself (the third twice that...). */
  readonly leaveCommitDelayMs: number;
  /**
   * `store.apply`, keeping the cache of decoded conversations in step (see `Applier`): every group the unit
   * writes is forgotten; `states` are the conversations' new states that the unit brings (written with it as
   * `groups`, or once at the end of a receive batch) and they are kept. `durable: false` is for the effects of
   * received activities, which can be read again from the server: such a unit need not wait for the disk (see
   * `Store.apply`); the daemon flushes within a second. A unit that queues something to post commits relaxed
   * too, whatever `durable` says: the outbox syncs the store before it posts (`Applier.beforePost`).
   */
  apply(unit: Unit, states?: readonly LoadedConversation[], options?: { durable?: boolean }): ApplyResult;
  /** Decoded conversations by group id (decoding a state costs more than decrypting a message). */
  readonly conversations: Map<string, LoadedConversation>;
  /** Decrypts application messages ahead on a worker thread during receive batches; off: undefined. */
  readonly decryptAhead: DecryptAhead | undefined;
  /** Asks the outbox worker to post what was just queued. */
  wakeOutbox(): void;
  /** Asks the KeyPackage pool to top itself up (after a Welcome consumed one). */
  wakeKeyPackages(): void;
  /** Another device of this account left a conversation: leave it here too (in the background). */
  leaveOnThisDevice(conversationId: string): void;
  /** Learns, in the background, the handles of these actors that are not known yet. */
  learnHandles(actorIds: readonly string[]): void;
}

export const SETTINGS_ACCOUNT = "account";
export const SETTINGS_HELD = "held";
export const CURSOR_RECEIVED = "received";
export const DEVICE_KEY_ID = "device";
