import type { JsonObject } from "@sotto/core";
import {
  type ActivityLog,
  ignoreDuplicate,
  type KeyPackageStore,
  type LoggedActivity,
  type OwnedActivity,
  type Sql,
  SqlActivityLog,
  SqlKeyPackageStore,
  type SqlStatement,
} from "@sotto/fedify";

/** A log that other processes can follow: what the live streams (SSE) of every web process read. */
export interface FollowedLog extends ActivityLog {
  /** Every owner's items with `seq > after`, oldest first. */
  since(after: number, limit: number): Promise<OwnedActivity[]>;
  /** The newest position in the whole log (0 when empty). */
  lastSeq(): Promise<number>;
}

/** Accounts and their bearer tokens (only SHA-256 hashes are stored). */
export interface AccountStore {
  /** A user that exists and was not removed. */
  exists(name: string): Promise<boolean>;
  /** Whether the name was ever used (removed names are never handed out again). */
  taken(name: string): Promise<boolean>;
  /** Every name ever created, removed ones included, in name order. */
  list(): Promise<string[]>;
  /** Creates the user with its key pairs (JWK JSON); false when the name was taken meanwhile. */
  add(name: string, keys: string): Promise<boolean>;
  /** Erases the user's keys and tokens in one commit, keeping the name; false when there was no such user. */
  remove(name: string): Promise<boolean>;
  /** The user's key pairs (JWK JSON), if it was ever created. */
  keys(name: string): Promise<string | undefined>;
  addToken(name: string, hash: string): Promise<void>;
  /** Revokes one token (by hash) or all of the user's; answers how many. */
  revokeTokens(name: string, hash?: string): Promise<number>;
  /** The user a token hash belongs to. */
  tokenOwner(hash: string): Promise<string | undefined>;
}

/** What a C2S post writes, all in one commit. */
export interface Post {
  readonly activity: JsonObject;
  /** The object a Create made, kept under its own id. */
  readonly object?: { readonly id: string; readonly json: JsonObject };
  /** [client id, server id] pairs (ActivityPub §6: the server's id wins; the client's still finds it). */
  readonly aliases: readonly (readonly [string, string])[];
}

/**
 * Everything sotto-server keeps, as whole operations: each write that must be all-or-nothing is one method
 * and one commit. Implemented once over {@link Sql}, for a SQLite file and for MariaDB/MySQL.
 */
export interface ServerStore {
  readonly accounts: AccountStore;
  /** Everything received, per local user. */
  readonly inbox: FollowedLog;
  /** Received activities that carry a valid MLS object, per local user. */
  readonly messages: FollowedLog;
  readonly outbox: ActivityLog;
  readonly objects: ActivityLog;
  readonly keyPackages: KeyPackageStore;
  /** Stores an activity received for `owner`: its inbox and, when `mls`, its `messages`, in one commit. */
  receive(
    owner: string,
    id: string,
    activity: JsonObject,
    mls: boolean,
  ): Promise<readonly [LoggedActivity | undefined, LoggedActivity | undefined]>;
  /** Stores a post of `name`: the outbox item, the object it created and the client's ids, in one commit. */
  post(name: string, post: Post): Promise<void>;
  /** Takes a post back out (its hand-off for delivery failed), in one commit. */
  unpost(name: string, activityId: string, objectId: string | undefined): Promise<void>;
  /** The server's id for `owner`'s alias (a client's own id for what it posted), if there is one. */
  resolveAlias(owner: string, alias: string): Promise<string | undefined>;
}

class SqlAccounts implements AccountStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async exists(name: string): Promise<boolean> {
    return (
      (await this.#sql.get("SELECT 1 AS hit FROM users WHERE name = ? AND removed = 0", [name])) !== undefined
    );
  }

  async taken(name: string): Promise<boolean> {
    return (await this.#sql.get("SELECT 1 AS hit FROM users WHERE name = ?", [name])) !== undefined;
  }

  async list(): Promise<string[]> {
    return (await this.#sql.all<{ name: string }>("SELECT name FROM users ORDER BY name")).map((r) => r.name);
  }

  async add(name: string, keys: string): Promise<boolean> {
    const { changes } = await this.#sql.run(
      `INSERT INTO users (name, created, \`keys\`) VALUES (?, ?, ?)${ignoreDuplicate(this.#sql.dialect, "name")}`,
      [name, new Date().toISOString(), keys],
    );
    return changes > 0;
  }

  async remove(name: string): Promise<boolean> {
    const [, marked] = await this.#sql.batch([
      { sql: "DELETE FROM tokens WHERE name = ?", params: [name] },
      { sql: "UPDATE users SET removed = 1, `keys` = '[]' WHERE name = ? AND removed = 0", params: [name] },
    ]);
    return (marked?.changes ?? 0) > 0;
  }

  async keys(name: string): Promise<string | undefined> {
    return (await this.#sql.get<{ keys: string }>("SELECT `keys` FROM users WHERE name = ?", [name]))?.keys;
  }

  async addToken(name: string, hash: string): Promise<void> {
    await this.#sql.run("INSERT INTO tokens (hash, name, created) VALUES (?, ?, ?)", [
      hash,
      name,
      new Date().toISOString(),
    ]);
  }

  async revokeTokens(name: string, hash?: string): Promise<number> {
    const { changes } =
      hash === undefined
        ? await this.#sql.run("DELETE FROM tokens WHERE name = ?", [name])
        : await this.#sql.run("DELETE FROM tokens WHERE name = ? AND hash = ?", [name, hash]);
    return changes;
  }

  async tokenOwner(hash: string): Promise<string | undefined> {
    return (await this.#sql.get<{ name: string }>("SELECT name FROM tokens WHERE hash = ?", [hash]))?.name;
  }
}

/** The {@link ServerStore} on a migrated database (see schema.ts). */
export class SqlServerStore implements ServerStore {
  readonly #sql: Sql;
  readonly accounts: AccountStore;
  readonly inbox: SqlActivityLog;
  readonly messages: SqlActivityLog;
  readonly outbox: SqlActivityLog;
  readonly objects: SqlActivityLog;
  readonly keyPackages: SqlKeyPackageStore;

  constructor(sql: Sql) {
    this.#sql = sql;
    this.accounts = new SqlAccounts(sql);
    this.inbox = new SqlActivityLog(sql, "inbox");
    this.messages = new SqlActivityLog(sql, "mls_messages");
    this.outbox = new SqlActivityLog(sql, "outbox");
    this.objects = new SqlActivityLog(sql, "objects");
    this.keyPackages = new SqlKeyPackageStore(sql);
  }

  async receive(
    owner: string,
    id: string,
    activity: JsonObject,
    mls: boolean,
  ): Promise<readonly [LoggedActivity | undefined, LoggedActivity | undefined]> {
    const inbox = this.inbox.prepareAppend(owner, id, activity);
    const messages = mls ? this.messages.prepareAppend(owner, id, activity) : undefined;
    const [inboxRun, messagesRun] = await this.#sql.batch([
      inbox.statement,
      ...(messages === undefined ? [] : [messages.statement]),
    ]);
    return [
      inboxRun === undefined ? undefined : inbox.item(inboxRun),
      messages === undefined || messagesRun === undefined ? undefined : messages.item(messagesRun),
    ];
  }

  async post(name: string, post: Post): Promise<void> {
    const statements: SqlStatement[] = [
      this.outbox.prepareAppend(name, post.activity.id as string, post.activity).statement,
    ];
    if (post.object !== undefined) {
      statements.push(this.objects.prepareAppend(name, post.object.id, post.object.json).statement);
    }
    for (const [alias, id] of post.aliases) {
      statements.push({
        // An alias already taken keeps what it named first.
        sql: `INSERT INTO aliases (owner, alias, id) VALUES (?, ?, ?)${ignoreDuplicate(this.#sql.dialect, "id")}`,
        params: [name, alias, id],
      });
    }
    await this.#sql.batch(statements);
  }

  async unpost(name: string, activityId: string, objectId: string | undefined): Promise<void> {
    await this.#sql.batch([
      this.outbox.prepareRemove(name, activityId),
      ...(objectId === undefined ? [] : [this.objects.prepareRemove(name, objectId)]),
    ]);
  }

  async resolveAlias(owner: string, alias: string): Promise<string | undefined> {
    return (
      await this.#sql.get<{ id: string }>("SELECT id FROM aliases WHERE owner = ? AND alias = ?", [
        owner,
        alias,
      ])
    )?.id;
  }
}
