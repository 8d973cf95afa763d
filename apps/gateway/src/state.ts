// The gateway's own state: which XMPP message id is which Note, whether a conversation was told that
// encryption ends here, cached actor lookups, and cursors (how far each puppet's events were bridged, and what
// was last shown of a message's edits and reactions). It holds ids, handles and reaction emoji, never message
// bodies or keys (those stay in each puppet's encrypted @sotto/storage store).
//
// Kept in a SQLite file (node:sqlite, WAL) or, with `database: "mysql://..."`, in MariaDB/MySQL
// (beside the embedded server's tables, so the gateway can start on another host). Reads answer from memory
// (the whole state is loaded at open), so the bridge's mapping stays synchronous. Changes are group-committed:
// those made in one turn of the event loop are written together, in order, as one transaction at the end of
// it (on MariaDB one round trip); `close` writes what is left and waits. On SQLite a commit does not wait for
// the disk (WAL, synchronous NORMAL): the log is synced at most a second later (a checkpoint), and on close.
// A disk sync per change blocked the one event loop for about 5 ms each, ten per bridged message. A crash of
// the process loses nothing committed; a power loss or OS crash may undo the last second of changes: events
// shown again, or an id pair forgotten (a later correction of that message is then refused).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  columnTypes,
  ignoreDuplicate,
  type Migration,
  migrate,
  mysqlSql,
  openMysqlPool,
  type Sql,
  type SqlDialect,
  type SqlStatement,
  type SqlValue,
  sqliteSql,
  updateDuplicate,
} from "@sotto/fedify";
import type { KnownMessage } from "./mapping.js";

const TABLES = ["messages", "aliases", "media", "receipts", "notices", "actors", "cursors"] as const;

/** MySQL tables (the same names the SQLite file has after version 2), for a database shared with the server. */
function mysqlTables(): string[] {
  const t = columnTypes("mysql");
  // Conversation keys and XMPP ids stay within 255 characters, ids of Notes within 512 (InnoDB key limit).
  return [
    `CREATE TABLE IF NOT EXISTS gateway_messages (
      conversation VARCHAR(255) NOT NULL, xmpp_id VARCHAR(255) NOT NULL, message_id ${t.id} NOT NULL,
      author VARCHAR(16) NOT NULL, PRIMARY KEY (conversation, xmpp_id),
      UNIQUE KEY gateway_messages_by_id (conversation, message_id))${t.table}`,
    `CREATE TABLE IF NOT EXISTS gateway_aliases (
      conversation VARCHAR(255) NOT NULL, alias VARCHAR(255) NOT NULL, xmpp_id VARCHAR(255) NOT NULL,
      PRIMARY KEY (conversation, alias))${t.table}`,
    `CREATE TABLE IF NOT EXISTS gateway_media (
      token VARCHAR(128) NOT NULL PRIMARY KEY, user VARCHAR(255) NOT NULL, message_id VARCHAR(500) NOT NULL,
      idx INTEGER NOT NULL, UNIQUE KEY gateway_media_by_file (user, message_id, idx))${t.table}`,
    `CREATE TABLE IF NOT EXISTS gateway_receipts (
      conversation VARCHAR(255) NOT NULL, message_id ${t.id} NOT NULL, stanza_id VARCHAR(255) NOT NULL,
      PRIMARY KEY (conversation, message_id))${t.table}`,
    `CREATE TABLE IF NOT EXISTS gateway_notices (conversation ${t.id} NOT NULL PRIMARY KEY, at VARCHAR(32) NOT NULL)${t.table}`,
    `CREATE TABLE IF NOT EXISTS gateway_actors (
      handle ${t.id} NOT NULL PRIMARY KEY, actor_id ${t.text} NOT NULL, name ${t.text})${t.table}`,
    `CREATE TABLE IF NOT EXISTS gateway_cursors (name ${t.id} NOT NULL PRIMARY KEY, position ${t.text} NOT NULL)${t.table}`,
  ];
}

/** The gateway's schema versions (component `gateway`). */
export const GATEWAY_MIGRATIONS: readonly Migration[] = [
  {
    // The file of earlier versions, adopted as it is.
    version: 1,
    statements: (dialect: SqlDialect) =>
      dialect === "mysql"
        ? mysqlTables()
        : [
            `CREATE TABLE IF NOT EXISTS messages (
              conversation TEXT NOT NULL, xmpp_id TEXT NOT NULL, message_id TEXT NOT NULL,
              author TEXT NOT NULL CHECK (author IN ('xmpp', 'fediverse')),
              PRIMARY KEY (conversation, xmpp_id)) STRICT`,
            "CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (conversation, message_id)",
            `CREATE TABLE IF NOT EXISTS aliases (
              conversation TEXT NOT NULL, alias TEXT NOT NULL, xmpp_id TEXT NOT NULL,
              PRIMARY KEY (conversation, alias)) STRICT`,
            `CREATE TABLE IF NOT EXISTS media (
              token TEXT PRIMARY KEY, user TEXT NOT NULL, message_id TEXT NOT NULL, idx INTEGER NOT NULL) STRICT`,
            "CREATE UNIQUE INDEX IF NOT EXISTS media_by_file ON media (user, message_id, idx)",
            `CREATE TABLE IF NOT EXISTS receipts (
              conversation TEXT NOT NULL, message_id TEXT NOT NULL, stanza_id TEXT NOT NULL,
              PRIMARY KEY (conversation, message_id)) STRICT`,
            "CREATE TABLE IF NOT EXISTS notices (conversation TEXT PRIMARY KEY, at TEXT NOT NULL) STRICT",
            "CREATE TABLE IF NOT EXISTS actors (handle TEXT PRIMARY KEY, actor_id TEXT NOT NULL, name TEXT) STRICT",
            "CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, position TEXT NOT NULL) STRICT",
          ],
  },
  {
    // One name per table in both databases (a MariaDB database is shared with the server, which has `aliases`).
    version: 2,
    statements: (dialect: SqlDialect) =>
      dialect === "mysql" ? [] : TABLES.map((table) => `ALTER TABLE ${table} RENAME TO gateway_${table}`),
  },
];

export interface KnownActor {
  readonly handle: string;
  readonly actorId: string;
  readonly name?: string;
}

/** Where the state is kept: a SQLite file, or a MariaDB/MySQL database. */
export type StateLocation = { readonly path: string } | { readonly database: string };

const pair = (...parts: readonly (string | number)[]): string => parts.join("\n");

/** How long a SQLite commit may wait for the disk: the write-ahead log is synced this long after it, at most. */
const SYNC_AFTER_MS = 1_000;

export class GatewayState {
  readonly #sql: Sql;
  readonly #closeDatabase: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  /** Makes every commit durable (SQLite: a checkpoint, which syncs the log); undefined when commits are. */
  readonly #sync: (() => void) | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = Promise.resolve();
  /** Changes of this turn of the event loop, committed together at its end. */
  #pending: SqlStatement[] = [];
  readonly #messages = new Map<string, KnownMessage>(); // conversation, xmpp id
  readonly #byMessageId = new Map<string, string>(); // conversation, message id -> xmpp id
  readonly #aliases = new Map<string, string>(); // conversation, alias -> xmpp id
  readonly #media = new Map<string, { user: string; messageId: string; index: number }>();
  readonly #mediaByFile = new Map<string, string>(); // user, message id, index -> token
  readonly #receipts = new Map<string, string>(); // conversation, message id -> stanza id
  readonly #notices = new Set<string>();
  readonly #actors = new Map<string, KnownActor>();
  readonly #actorsById = new Map<string, string>();
  readonly #cursors = new Map<string, string>();

  private constructor(
    sql: Sql,
    close: () => Promise<void>,
    onError: (error: unknown) => void,
    sync: (() => void) | undefined,
  ) {
    this.#sql = sql;
    this.#closeDatabase = close;
    this.#onError = onError;
    this.#sync = sync;
  }

  /** Opens (and migrates) the state and loads it. `onError` hears of a commit that failed (the gateway goes on). */
  static async open(
    location: StateLocation,
    onError: (error: unknown) => void = () => undefined,
  ): Promise<GatewayState> {
    let sql: Sql;
    let close: () => Promise<void>;
    let sync: (() => void) | undefined;
    if ("database" in location) {
      const pool = await openMysqlPool(location.database);
      sql = mysqlSql(pool);
      close = () => pool.end();
    } else {
      mkdirSync(dirname(location.path), { recursive: true });
      const db = new DatabaseSync(location.path);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000");
      sql = sqliteSql(db);
      close = async () => db.close();
      sync = () => db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    }
    try {
      await migrate(sql, "gateway", GATEWAY_MIGRATIONS);
      const state = new GatewayState(sql, close, onError, sync);
      await state.#load();
      return state;
    } catch (error) {
      await close();
      throw error;
    }
  }

  async #load(): Promise<void> {
    const sql = this.#sql;
    for (const m of await sql.all<{
      conversation: string;
      xmpp_id: string;
      message_id: string;
      author: string;
    }>("SELECT conversation, xmpp_id, message_id, author FROM gateway_messages")) {
      this.#keep(m.conversation, {
        xmppId: m.xmpp_id,
        messageId: m.message_id,
        author: m.author as KnownMessage["author"],
      });
    }
    for (const a of await sql.all<{ conversation: string; alias: string; xmpp_id: string }>(
      "SELECT conversation, alias, xmpp_id FROM gateway_aliases",
    )) {
      this.#aliases.set(pair(a.conversation, a.alias), a.xmpp_id);
    }
    for (const m of await sql.all<{ token: string; user: string; message_id: string; idx: number }>(
      "SELECT token, user, message_id, idx FROM gateway_media",
    )) {
      this.#media.set(m.token, { user: m.user, messageId: m.message_id, index: Number(m.idx) });
      this.#mediaByFile.set(pair(m.user, m.message_id, Number(m.idx)), m.token);
    }
    for (const r of await sql.all<{ conversation: string; message_id: string; stanza_id: string }>(
      "SELECT conversation, message_id, stanza_id FROM gateway_receipts",
    )) {
      this.#receipts.set(pair(r.conversation, r.message_id), r.stanza_id);
    }
    for (const n of await sql.all<{ conversation: string }>("SELECT conversation FROM gateway_notices")) {
      this.#notices.add(n.conversation);
    }
    for (const a of await sql.all<{ handle: string; actor_id: string; name: string | null }>(
      "SELECT handle, actor_id, name FROM gateway_actors",
    )) {
      this.#keepActor({ handle: a.handle, actorId: a.actor_id, ...(a.name ? { name: a.name } : {}) });
    }
    for (const c of await sql.all<{ name: string; position: string }>(
      "SELECT name, position FROM gateway_cursors",
    )) {
      this.#cursors.set(c.name, c.position);
    }
  }

  /** Queues one statement after those before it, for the commit at the end of this turn of the event loop. */
  #write(statement: string, params: readonly SqlValue[]): void {
    if (this.#pending.length === 0) setImmediate(() => this.#commit());
    this.#pending.push({ sql: statement, params });
  }

  /** Commits the queued statements as one transaction, after the commits before it. */
  #commit(): void {
    if (this.#pending.length === 0) return;
    const statements = this.#pending;
    this.#pending = [];
    this.#writes = this.#writes
      .then(() => this.#sql.batch(statements))
      .then(
        () => this.#syncSoon(),
        (error: unknown) => this.#onError(error),
      );
  }

  #syncSoon(): void {
    if (this.#sync === undefined || this.#syncTimer !== undefined) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      try {
        this.#sync?.();
      } catch (error) {
        this.#onError(error);
      }
    }, SYNC_AFTER_MS);
    this.#syncTimer.unref();
  }

  /** Commits what is queued and waits for every commit, makes them durable, then closes the database. */
  async close(): Promise<void> {
    this.#commit();
    await this.#writes;
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    try {
      this.#sync?.();
    } finally {
      await this.#closeDatabase();
    }
  }

  #keep(conversation: string, m: KnownMessage): void {
    this.#messages.set(pair(conversation, m.xmppId), m);
    this.#byMessageId.set(pair(conversation, m.messageId), m.xmppId);
  }

  #keepActor(a: KnownActor): void {
    const old = this.#actors.get(a.handle);
    if (old !== undefined) this.#actorsById.delete(old.actorId);
    this.#actors.set(a.handle, a);
    this.#actorsById.set(a.actorId, a.handle);
  }

  /** By the XMPP id of a message, or by its other stanza id (its alias). */
  byXmppId(conversation: string, xmppId: string): KnownMessage | undefined {
    const found = this.#messages.get(pair(conversation, xmppId));
    if (found) return found;
    const alias = this.#aliases.get(pair(conversation, xmppId));
    return alias === undefined ? undefined : this.#messages.get(pair(conversation, alias));
  }

  byMessageId(conversation: string, messageId: string): KnownMessage | undefined {
    const xmppId = this.#byMessageId.get(pair(conversation, messageId));
    return xmppId === undefined ? undefined : this.#messages.get(pair(conversation, xmppId));
  }

  /** Remembers an id pair (the first one stays), and `alias` as another XMPP id of the same message. */
  remember(conversation: string, m: KnownMessage, alias?: string): void {
    const dialect = this.#sql.dialect;
    if (
      !this.#messages.has(pair(conversation, m.xmppId)) &&
      !this.#byMessageId.has(pair(conversation, m.messageId))
    ) {
      this.#write(
        `INSERT INTO gateway_messages (conversation, xmpp_id, message_id, author) VALUES (?, ?, ?, ?)${ignoreDuplicate(dialect, "author")}`,
        [conversation, m.xmppId, m.messageId, m.author],
      );
      this.#keep(conversation, m);
    }
    if (alias === undefined || this.#aliases.has(pair(conversation, alias))) return;
    this.#write(
      `INSERT INTO gateway_aliases (conversation, alias, xmpp_id) VALUES (?, ?, ?)${ignoreDuplicate(dialect, "xmpp_id")}`,
      [conversation, alias, m.xmppId],
    );
    this.#aliases.set(pair(conversation, alias), m.xmppId);
  }

  /** The XMPP user asked for a delivery receipt of `messageId`, to be answered naming `stanzaId`. */
  awaitReceipt(conversation: string, messageId: string, stanzaId: string): void {
    const key = pair(conversation, messageId);
    if (this.#receipts.has(key)) return;
    this.#write(
      `INSERT INTO gateway_receipts (conversation, message_id, stanza_id) VALUES (?, ?, ?)${ignoreDuplicate(this.#sql.dialect, "stanza_id")}`,
      [conversation, messageId, stanzaId],
    );
    this.#receipts.set(key, stanzaId);
  }

  /** The stanza id a delivery receipt of `messageId` names, once (the request is forgotten). */
  takeReceipt(conversation: string, messageId: string): string | undefined {
    const key = pair(conversation, messageId);
    const stanzaId = this.#receipts.get(key);
    if (stanzaId === undefined) return undefined;
    this.#write("DELETE FROM gateway_receipts WHERE conversation = ? AND message_id = ?", [
      conversation,
      messageId,
    ]);
    this.#receipts.delete(key);
    return stanzaId;
  }

  /** The token under which a message's inline file is served to `user` (made once, then the same). */
  mediaToken(user: string, messageId: string, index: number, newToken: () => string): string {
    const file = pair(user, messageId, index);
    const known = this.#mediaByFile.get(file);
    if (known !== undefined) return known;
    const token = newToken();
    this.#write("INSERT INTO gateway_media (token, user, message_id, idx) VALUES (?, ?, ?, ?)", [
      token,
      user,
      messageId,
      index,
    ]);
    this.#media.set(token, { user, messageId, index });
    this.#mediaByFile.set(file, token);
    return token;
  }

  /** Which file a media token stands for. */
  mediaFile(token: string): { user: string; messageId: string; index: number } | undefined {
    return this.#media.get(token);
  }

  /** True exactly once per conversation: the first time it is asked (and recorded). */
  firstTime(conversation: string): boolean {
    if (this.#notices.has(conversation)) return false;
    this.#write(
      `INSERT INTO gateway_notices (conversation, at) VALUES (?, ?)${ignoreDuplicate(this.#sql.dialect, "at")}`,
      [conversation, new Date().toISOString()],
    );
    this.#notices.add(conversation);
    return true;
  }

  actor(handle: string): KnownActor | undefined {
    return this.#actors.get(handle);
  }

  actorById(actorId: string): KnownActor | undefined {
    const handle = this.#actorsById.get(actorId);
    return handle === undefined ? undefined : this.#actors.get(handle);
  }

  /** Stores a looked-up actor; an unchanged one is not written again (the bridge passes it with every change). */
  setActor(a: KnownActor): void {
    const known = this.#actors.get(a.handle);
    if (known !== undefined && known.actorId === a.actorId && known.name === a.name) return;
    this.#write(
      `INSERT INTO gateway_actors (handle, actor_id, name) VALUES (?, ?, ?)${updateDuplicate(this.#sql.dialect, ["handle"], ["actor_id", "name"])}`,
      [a.handle, a.actorId, a.name ?? null],
    );
    this.#keepActor(a);
  }

  cursor(name: string): string | undefined {
    return this.#cursors.get(name);
  }

  /** Moves a cursor; an unchanged one is not written again. */
  setCursor(name: string, position: string): void {
    if (this.#cursors.get(name) === position) return;
    this.#write(
      `INSERT INTO gateway_cursors (name, position) VALUES (?, ?)${updateDuplicate(this.#sql.dialect, ["name"], ["position"])}`,
      [name, position],
    );
    this.#cursors.set(name, position);
  }
}
