import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { FieldCipher } from "./cipher.js";
import type { JsonValue } from "./json.js";
import type { EventInput, EventPage, StoredEvent } from "./records.js";

/**
 * The event log: `seq` grows by one per event and is never reused (AUTOINCREMENT, and the floor
 * below survives pruning). Retention keeps the newest `keep` events; what was pruned is remembered
 * as the floor, so a reader asking for older events gets a `gap` instead of a silent skip.
 */
export class EventLog {
  readonly #cipher: FieldCipher;
  readonly #keep: number;
  readonly #insert: StatementSync;
  readonly #page: StatementSync;
  readonly #prune: StatementSync;
  readonly #setFloor: StatementSync;
  #last: number;
  #floor: number;

  constructor(db: DatabaseSync, cipher: FieldCipher, keep: number) {
    this.#cipher = cipher;
    this.#keep = keep;
    this.#insert = db.prepare("INSERT INTO events (seq, type, data, at) VALUES (?, ?, ?, ?)");
    this.#page = db.prepare("SELECT seq, type, data, at FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
    this.#prune = db.prepare("DELETE FROM events WHERE seq <= ?");
    this.#setFloor = db.prepare(
      "INSERT INTO meta (name, value) VALUES ('events_floor', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    );
    const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as
      | { seq: number }
      | undefined;
    const floor = db.prepare("SELECT value FROM meta WHERE name = 'events_floor'").get() as
      | { value: number }
      | undefined;
    this.#floor = floor?.value ?? 0;
    this.#last = Math.max(sequence?.seq ?? 0, this.#floor);
  }

  /** The last seq written (0 when none). */
  get last(): number {
    return this.#last;
  }

  /** Appends inside the caller's transaction; `rollback(mark)` undoes the counter if it aborts. */
  append(events: readonly EventInput[], at: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const event of events) {
      const seq = this.#last + 1;
      const data = this.#cipher.sealJson("events", "data", { seq, type: event.type, at }, event.data);
      this.#insert.run(seq, event.type, data, at);
      this.#last = seq;
      out.push({ seq, type: event.type, data: event.data, at });
    }
    // Prune in batches (a tenth of `keep`) rather than one row per unit.
    if (this.#last - this.#floor > this.#keep + Math.max(1, Math.floor(this.#keep / 10))) {
      const floor = this.#last - this.#keep;
      this.#prune.run(floor);
      this.#setFloor.run(floor);
      this.#floor = floor;
    }
    return out;
  }

  mark(): { last: number; floor: number } {
    return { last: this.#last, floor: this.#floor };
  }

  rollback(mark: { last: number; floor: number }): void {
    this.#last = mark.last;
    this.#floor = mark.floor;
  }

  since(after: number, limit: number): EventPage {
    const gap = after < this.#floor ? { from: after + 1, to: this.#floor } : null;
    const rows = this.#page.all(Math.max(after, 0), limit) as unknown as {
      seq: number;
      type: string;
      data: Uint8Array;
      at: number;
    }[];
    const events = rows.map((row) => ({
      seq: row.seq,
      type: row.type,
      data: this.#cipher.openJson<JsonValue>("events", "data", row, row.data),
      at: row.at,
    }));
    return { events, gap, last: this.#last };
  }
}
