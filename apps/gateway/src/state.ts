// The gateway's own state: which XMPP message id is which Note, the reaction sets on both sides, whether a
// conversation was told that encryption ends here, cached actor lookups, and cursors. One SQLite file
// (node:sqlite, WAL, synchronous FULL); each write is one statement or one transaction, so a crash keeps all or
// nothing. It holds ids, handles and reaction emoji, never message bodies or keys (those stay in each puppet's
// encrypted @sotto/storage store).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { KnownMessage } from "./activity.js";

export type Side = "xmpp" | "fediverse";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  conversation TEXT NOT NULL, xmpp_id TEXT NOT NULL, note_id TEXT NOT NULL,
  author TEXT NOT NULL CHECK (author IN ('xmpp', 'fediverse')),
  PRIMARY KEY (conversation, xmpp_id)) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_note ON messages (conversation, note_id);
CREATE TABLE IF NOT EXISTS reactions (
  conversation TEXT NOT NULL, side TEXT NOT NULL, note_id TEXT NOT NULL, emoji TEXT NOT NULL, like_id TEXT NOT NULL,
  PRIMARY KEY (conversation, side, note_id, emoji)) STRICT;
CREATE INDEX IF NOT EXISTS reactions_by_like ON reactions (conversation, side, like_id);
CREATE TABLE IF NOT EXISTS notices (conversation TEXT PRIMARY KEY, at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS actors (handle TEXT PRIMARY KEY, actor_id TEXT NOT NULL, name TEXT) STRICT;
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, position TEXT NOT NULL) STRICT;
`;

export interface KnownActor {
  readonly handle: string;
  readonly actorId: string;
  readonly name?: string;
}

export class GatewayState {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000");
    this.#db.exec(SCHEMA);
  }

  close(): void {
    this.#db.close();
  }

  byXmppId(conversation: string, xmppId: string): KnownMessage | undefined {
    return this.#message("xmpp_id", conversation, xmppId);
  }

  byNoteId(conversation: string, noteId: string): KnownMessage | undefined {
    return this.#message("note_id", conversation, noteId);
  }

  #message(column: "xmpp_id" | "note_id", conversation: string, id: string): KnownMessage | undefined {
    const row = this.#db
      .prepare(`SELECT xmpp_id, note_id, author FROM messages WHERE conversation = ? AND ${column} = ?`)
      .get(conversation, id) as { xmpp_id: string; note_id: string; author: Side } | undefined;
    return row && { xmppId: row.xmpp_id, noteId: row.note_id, author: row.author };
  }

  remember(conversation: string, m: KnownMessage): void {
    this.#db
      .prepare("INSERT OR IGNORE INTO messages (conversation, xmpp_id, note_id, author) VALUES (?, ?, ?, ?)")
      .run(conversation, m.xmppId, m.noteId, m.author);
  }

  /** One side's reactions to a Note: emoji -> Like id, in the order they were made. */
  reactions(conversation: string, side: Side, noteId: string): Map<string, string> {
    const rows = this.#db
      .prepare(
        "SELECT emoji, like_id FROM reactions WHERE conversation = ? AND side = ? AND note_id = ? ORDER BY rowid",
      )
      .all(conversation, side, noteId) as { emoji: string; like_id: string }[];
    return new Map(rows.map((r) => [r.emoji, r.like_id]));
  }

  setReactions(conversation: string, side: Side, noteId: string, byEmoji: ReadonlyMap<string, string>): void {
    this.#transaction(() => {
      this.#db
        .prepare("DELETE FROM reactions WHERE conversation = ? AND side = ? AND note_id = ?")
        .run(conversation, side, noteId);
      const insert = this.#db.prepare(
        "INSERT INTO reactions (conversation, side, note_id, emoji, like_id) VALUES (?, ?, ?, ?, ?)",
      );
      for (const [emoji, likeId] of byEmoji) insert.run(conversation, side, noteId, emoji, likeId);
    });
  }

  like(conversation: string, side: Side, likeId: string): { noteId: string; emoji: string } | undefined {
    const row = this.#db
      .prepare("SELECT note_id, emoji FROM reactions WHERE conversation = ? AND side = ? AND like_id = ?")
      .get(conversation, side, likeId) as { note_id: string; emoji: string } | undefined;
    return row && { noteId: row.note_id, emoji: row.emoji };
  }

  /** True exactly once per conversation: the first time it is asked (and recorded). */
  firstTime(conversation: string): boolean {
    const { changes } = this.#db
      .prepare("INSERT OR IGNORE INTO notices (conversation, at) VALUES (?, ?)")
      .run(conversation, new Date().toISOString());
    return changes === 1;
  }

  actor(handle: string): KnownActor | undefined {
    const row = this.#db.prepare("SELECT handle, actor_id, name FROM actors WHERE handle = ?").get(handle) as
      | { handle: string; actor_id: string; name: string | null }
      | undefined;
    return row && { handle: row.handle, actorId: row.actor_id, ...(row.name ? { name: row.name } : {}) };
  }

  actorById(actorId: string): KnownActor | undefined {
    const row = this.#db.prepare("SELECT handle FROM actors WHERE actor_id = ?").get(actorId) as
      | { handle: string }
      | undefined;
    return row && this.actor(row.handle);
  }

  setActor(a: KnownActor): void {
    this.#db
      .prepare(
        "INSERT INTO actors (handle, actor_id, name) VALUES (?, ?, ?) ON CONFLICT (handle) DO UPDATE SET actor_id = excluded.actor_id, name = excluded.name",
      )
      .run(a.handle, a.actorId, a.name ?? null);
  }

  cursor(name: string): string | undefined {
    const row = this.#db.prepare("SELECT position FROM cursors WHERE name = ?").get(name) as
      | { position: string }
      | undefined;
    return row?.position;
  }

  setCursor(name: string, position: string): void {
    this.#db
      .prepare(
        "INSERT INTO cursors (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
      )
      .run(name, position);
  }

  #transaction(fn: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }
}
