// The gateway's own state: which XMPP message id is which Note, whether a conversation was told that
// encryption ends here, cached actor lookups, and cursors (how far each puppet's events were bridged, and what
// was last shown of a message's edits and reactions). One SQLite file
// (node:sqlite, WAL, synchronous FULL); each write is one statement or one transaction, so a crash keeps all or
// nothing. It holds ids, handles and reaction emoji, never message bodies or keys (those stay in each puppet's
// encrypted @sotto/storage store).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { KnownMessage } from "./mapping.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  conversation TEXT NOT NULL, xmpp_id TEXT NOT NULL, message_id TEXT NOT NULL,
  author TEXT NOT NULL CHECK (author IN ('xmpp', 'fediverse')),
  PRIMARY KEY (conversation, xmpp_id)) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (conversation, message_id);
CREATE TABLE IF NOT EXISTS aliases (
  conversation TEXT NOT NULL, alias TEXT NOT NULL, xmpp_id TEXT NOT NULL,
  PRIMARY KEY (conversation, alias)) STRICT;
CREATE TABLE IF NOT EXISTS media (
  token TEXT PRIMARY KEY, user TEXT NOT NULL, message_id TEXT NOT NULL, idx INTEGER NOT NULL) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS media_by_file ON media (user, message_id, idx);
CREATE TABLE IF NOT EXISTS receipts (
  conversation TEXT NOT NULL, message_id TEXT NOT NULL, stanza_id TEXT NOT NULL,
  PRIMARY KEY (conversation, message_id)) STRICT;
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

  /** By the XMPP id of a message, or by its other stanza id (its alias). */
  byXmppId(conversation: string, xmppId: string): KnownMessage | undefined {
    const found = this.#message("xmpp_id", conversation, xmppId);
    if (found) return found;
    const alias = this.#db
      .prepare("SELECT xmpp_id FROM aliases WHERE conversation = ? AND alias = ?")
      .get(conversation, xmppId) as { xmpp_id: string } | undefined;
    return alias && this.#message("xmpp_id", conversation, alias.xmpp_id);
  }

  byMessageId(conversation: string, messageId: string): KnownMessage | undefined {
    return this.#message("message_id", conversation, messageId);
  }

  #message(column: "xmpp_id" | "message_id", conversation: string, id: string): KnownMessage | undefined {
    const row = this.#db
      .prepare(`SELECT xmpp_id, message_id, author FROM messages WHERE conversation = ? AND ${column} = ?`)
      .get(conversation, id) as
      | { xmpp_id: string; message_id: string; author: KnownMessage["author"] }
      | undefined;
    return row && { xmppId: row.xmpp_id, messageId: row.message_id, author: row.author };
  }

  /** Remembers an id pair (the first one stays), and `alias` as another XMPP id of the same message. */
  remember(conversation: string, m: KnownMessage, alias?: string): void {
    this.#db
      .prepare(
        "INSERT OR IGNORE INTO messages (conversation, xmpp_id, message_id, author) VALUES (?, ?, ?, ?)",
      )
      .run(conversation, m.xmppId, m.messageId, m.author);
    if (alias === undefined) return;
    this.#db
      .prepare("INSERT OR IGNORE INTO aliases (conversation, alias, xmpp_id) VALUES (?, ?, ?)")
      .run(conversation, alias, m.xmppId);
  }

  /** The XMPP user asked for a delivery receipt of `messageId`, to be answered naming `stanzaId`. */
  awaitReceipt(conversation: string, messageId: string, stanzaId: string): void {
    this.#db
      .prepare("INSERT OR IGNORE INTO receipts (conversation, message_id, stanza_id) VALUES (?, ?, ?)")
      .run(conversation, messageId, stanzaId);
  }

  /** The stanza id a delivery receipt of `messageId` names, once (the request is forgotten). */
  takeReceipt(conversation: string, messageId: string): string | undefined {
    const row = this.#db
      .prepare("DELETE FROM receipts WHERE conversation = ? AND message_id = ? RETURNING stanza_id")
      .get(conversation, messageId) as { stanza_id: string } | undefined;
    return row?.stanza_id;
  }

  /** The token under which a message's inline file is served to `user` (made once, then the same). */
  mediaToken(user: string, messageId: string, index: number, newToken: () => string): string {
    this.#db
      .prepare("INSERT OR IGNORE INTO media (token, user, message_id, idx) VALUES (?, ?, ?, ?)")
      .run(newToken(), user, messageId, index);
    const row = this.#db
      .prepare("SELECT token FROM media WHERE user = ? AND message_id = ? AND idx = ?")
      .get(user, messageId, index) as { token: string };
    return row.token;
  }

  /** Which file a media token stands for. */
  mediaFile(token: string): { user: string; messageId: string; index: number } | undefined {
    const row = this.#db.prepare("SELECT user, message_id, idx FROM media WHERE token = ?").get(token) as
      | { user: string; message_id: string; idx: number }
      | undefined;
    return row && { user: row.user, messageId: row.message_id, index: row.idx };
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
}
