import type { JsonObject } from "@sotto/core";

/** One activity in an actor's ordered log (inbox, messages, outbox), with its position. */
export interface LoggedActivity {
  /** Monotonic position in the log; later items have larger numbers. */
  readonly seq: number;
  readonly id: string;
  readonly activity: JsonObject;
  /**
   * The activity as the log stores it, JSON text: what a page or an event carries, without parsing and
   * serialising it again (`SqlActivityLog`'s items parse `activity` only when it is asked for). A log of the
   * host's own may leave it out: `activity` is serialised then.
   */
  readonly json?: string;
  readonly received: string;
}

/** The JSON text a page or an event carries for an item. */
export function jsonOf(item: LoggedActivity): string {
  return item.json ?? JSON.stringify(item.activity);
}

/**
 * An append-only, per-owner ordered log of activities, kept in the host's database.
 * `append` is idempotent on the activity id: a second delivery of the same activity returns `undefined`.
 */
export interface ActivityLog {
  append(owner: string, id: string, activity: JsonObject): Promise<LoggedActivity | undefined>;
  find(owner: string, id: string): Promise<LoggedActivity | undefined>;
  /** Takes an item back out (a post whose hand-off for delivery failed); answers whether it was there. */
  remove(owner: string, id: string): Promise<boolean>;
  count(owner: string): Promise<number>;
  /** Newest first, items with `seq < before` (all when omitted). */
  newest(owner: string, options: { before?: number; limit: number }): Promise<LoggedActivity[]>;
  /** The position of the newest item received before `received` (an ISO time); 0 when there is none. */
  positionAt(owner: string, received: string): Promise<number>;
  /** Oldest first, items with `seq > after` (0 = from the start). */
  after(owner: string, after: number, limit: number): Promise<LoggedActivity[]>;
}

/** A KeyPackage object and where it is in its lifecycle (Create, Add, Remove, Delete). */
export interface KeyPackageRecord {
  readonly id: string;
  /** The actor id that owns it (its `attributedTo`). */
  readonly owner: string;
  readonly object: JsonObject;
  /** In the owner's `keyPackages` collection. */
  readonly listed: boolean;
  /** Deleted: answered with a Tombstone, never listed again. */
  readonly deleted: boolean;
}

export interface KeyPackageStore {
  get(id: string): Promise<KeyPackageRecord | undefined>;
  /** Inserts or replaces the record with this id. */
  put(record: KeyPackageRecord): Promise<void>;
  /** The listed, undeleted KeyPackages of an owner, oldest first. */
  listed(owner: string): Promise<KeyPackageRecord[]>;
}
