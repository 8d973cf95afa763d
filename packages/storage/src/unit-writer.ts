import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { FieldCipher } from "./cipher.js";
import { StorageError } from "./errors.js";
import type { JsonValue } from "./json.js";
import type { MessageChange, OutboxChange, Unit } from "./records.js";

/** The sealed part of a message row. */
export interface MessageContent {
  readonly author: string;
  readonly body: JsonValue | null;
}

/**
 * Writes the parts of a unit of work (everything but events and the processed id) with statements
 * prepared once. Runs inside the transaction `Store.apply` holds.
 */
export class UnitWriter {
  readonly #cipher: FieldCipher;
  readonly #s: Record<string, StatementSync>;

  constructor(db: DatabaseSync, cipher: FieldCipher) {
    this.#cipher = cipher;
    const sql: Record<string, string> = {
      deviceKey: `INSERT INTO device_keys (id, public, private, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET public = excluded.public, private = excluded.private,
        created_at = excluded.created_at`,
      keyPackage: `INSERT INTO key_packages (ref, public, private, object_id, created_at, expires_at, last_resort)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO UPDATE SET public = excluded.public,
        private = excluded.private, object_id = excluded.object_id, created_at = excluded.created_at,
        expires_at = excluded.expires_at, last_resort = excluded.last_resort`,
      keyPackageRemove: "DELETE FROM key_packages WHERE ref = ?",
      group: `INSERT INTO groups (id, epoch, state, meta, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, state = excluded.state,
        meta = excluded.meta, updated_at = excluded.updated_at
        WHERE excluded.epoch >= groups.epoch`,
      groupRemove: "DELETE FROM groups WHERE id = ?",
      message: `INSERT INTO messages (id, conversation, at, direction, state, content, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET conversation = excluded.conversation,
        at = excluded.at, direction = excluded.direction, state = excluded.state,
        content = CASE WHEN messages.deleted_at IS NULL THEN excluded.content ELSE messages.content END,
        updated_at = excluded.updated_at`,
      messageContent: "SELECT content, edited_at, deleted_at FROM messages WHERE id = ?",
      history: `INSERT INTO message_history (id, message_id, kind, actor, at, data, previous)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      edit: "UPDATE messages SET content = ?, edited_at = ?, updated_at = ? WHERE id = ?",
      erase: "UPDATE messages SET content = ?, deleted_at = ?, updated_at = ? WHERE id = ?",
      eraseEdits:
        "UPDATE message_history SET data = NULL, previous = NULL WHERE message_id = ? AND kind = 'edit'",
      messageState: "UPDATE messages SET state = ?, updated_at = ? WHERE id = ?",
      contact: `INSERT INTO contacts (actor, verification, data, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (actor) DO UPDATE SET verification = excluded.verification, data = excluded.data,
        updated_at = excluded.updated_at`,
      contactRemove: "DELETE FROM contacts WHERE actor = ?",
      enqueue: `INSERT INTO outbox (id, conversation, state, attempts, next_attempt_at, payload, created_at, updated_at)
        VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)`,
      sent: "UPDATE outbox SET state = 'sent', updated_at = ? WHERE id = ?",
      retry: `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
        WHERE id = ? AND state = 'queued'`,
      failed:
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?",
      outboxRemove: "DELETE FROM outbox WHERE id = ?",
      setting: `INSERT INTO settings (name, value) VALUES (?, ?)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      settingRemove: "DELETE FROM settings WHERE name = ?",
      cursor: `INSERT INTO cursors (name, position, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    };
    this.#s = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));
  }

  #run(name: string, ...params: (string | number | null | Uint8Array)[]): number {
    return Number((this.#s[name] as StatementSync).run(...params).changes);
  }

  write(unit: Unit, at: number): void {
    const c = this.#cipher;
    for (const k of unit.deviceKeys ?? []) {
      this.#run(
        "deviceKey",
        k.id,
        k.publicKey,
        c.seal("device_keys", "private", k.id, k.privateKey),
        k.createdAt,
      );
    }
    for (const k of unit.keyPackages ?? []) {
      this.#run(
        "keyPackage",
        k.ref,
        k.keyPackage,
        c.seal("key_packages", "private", k.ref, k.privateKey),
        k.objectId ?? null,
        k.createdAt,
        k.expiresAt ?? null,
        k.lastResort ? 1 : 0,
      );
    }
    for (const ref of unit.keyPackagesRemoved ?? []) this.#run("keyPackageRemove", ref);
    for (const g of unit.groups ?? []) {
      const changed = this.#run(
        "group",
        g.id,
        g.epoch,
        c.seal("groups", "state", g.id, g.state),
        c.sealJson("groups", "meta", g.id, { members: g.members, info: g.info ?? null }),
        at,
      );
      if (changed === 0)
        throw new StorageError("invalid_unit", `group state would go back to epoch ${g.epoch}`);
    }
    for (const id of unit.groupsRemoved ?? []) this.#run("groupRemove", id);
    for (const m of unit.messages ?? []) {
      this.#run(
        "message",
        m.id,
        m.conversation,
        m.at,
        m.direction,
        m.state,
        c.sealJson("messages", "content", m.id, { author: m.author, body: m.body }),
        at,
      );
    }
    for (const change of unit.messageChanges ?? []) this.#change(change, at);
    for (const { id, state } of unit.messageStates ?? []) this.#run("messageState", state, at, id);
    for (const k of unit.contacts ?? []) {
      const data = { name: k.name ?? null, devices: k.devices };
      this.#run("contact", k.actor, k.verification, c.sealJson("contacts", "data", k.actor, data), at);
    }
    for (const actor of unit.contactsRemoved ?? []) this.#run("contactRemove", actor);
    for (const change of unit.outbox ?? []) this.#outbox(change, at);
    for (const [name, value] of Object.entries(unit.settings ?? {})) {
      if (value === null) this.#run("settingRemove", name);
      else this.#run("setting", name, c.sealJson("settings", "value", name, value));
    }
    if (unit.cursor) this.#run("cursor", unit.cursor.name, unit.cursor.position, at);
  }

  #change(change: MessageChange, at: number): void {
    const c = this.#cipher;
    const row = (this.#s.messageContent as StatementSync).get(change.messageId) as
      | { content: Uint8Array; edited_at: number | null; deleted_at: number | null }
      | undefined;
    // Only edits and deletes touch the message; reactions are history alone.
    const touches = change.kind === "edit" || change.kind === "delete";
    const live = touches && row !== undefined && row.deleted_at === null;
    // An edit older than the newest one applied is history only.
    const current = live && (change.kind !== "edit" || row.edited_at === null || row.edited_at <= change.at);
    const content = current
      ? c.openJson<MessageContent>("messages", "content", change.messageId, row.content)
      : null;
    // An edit of a deleted message keeps no content.
    const data = change.kind === "edit" && row?.deleted_at != null ? null : (change.data ?? null);
    const previous = change.kind === "edit" ? (content?.body ?? null) : null;
    const inserted = this.#run(
      "history",
      change.id,
      change.messageId,
      change.kind,
      c.sealJson("message_history", "actor", change.id, change.actor),
      change.at,
      data === null ? null : c.sealJson("message_history", "data", change.id, data),
      previous === null ? null : c.sealJson("message_history", "previous", change.id, previous),
    );
    if (inserted === 0 || content === null) return;
    if (change.kind === "edit") {
      const edited = c.sealJson("messages", "content", change.messageId, {
        author: content.author,
        body: data,
      });
      this.#run("edit", edited, change.at, at, change.messageId);
    } else if (change.kind === "delete") {
      const erased = c.sealJson("messages", "content", change.messageId, {
        author: content.author,
        body: null,
      });
      this.#run("erase", erased, change.at, at, change.messageId);
      this.#run("eraseEdits", change.messageId);
    }
  }

  #outbox(change: OutboxChange, at: number): void {
    let changed: number;
    switch (change.op) {
      case "enqueue":
        changed = this.#run(
          "enqueue",
          change.id,
          change.conversation ?? null,
          change.notBefore ?? at,
          this.#cipher.sealJson("outbox", "payload", change.id, change.payload),
          at,
          at,
        );
        break;
      case "sent":
        changed = this.#run("sent", at, change.id);
        break;
      case "retry":
        changed = this.#run("retry", change.error, change.nextAttemptAt, at, change.id);
        break;
      case "failed":
        changed = this.#run("failed", change.error, at, change.id);
        break;
      case "remove":
        changed = this.#run("outboxRemove", change.id);
        break;
    }
    if (changed === 0) throw new StorageError("invalid_unit", `outbox ${change.op}: no such queued item`);
  }
}
