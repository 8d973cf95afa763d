import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type FieldCipher, SEALED_OVERHEAD } from "./cipher.js";
import { StorageError } from "./errors.js";
import type { JsonValue } from "./json.js";
import type { HeldItem, HeldLimits, MessageChange, OutboxChange, Unit } from "./records.js";
import type { Row } from "./sealed-columns.js";

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
  readonly #heldLimits: HeldLimits;
  readonly #s: Record<string, StatementSync>;

  constructor(db: DatabaseSync, cipher: FieldCipher, heldLimits: HeldLimits) {
    this.#cipher = cipher;
    this.#heldLimits = heldLimits;
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
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      messageRow: "SELECT * FROM messages WHERE id = ?",
      messageUpdate: `UPDATE messages SET conversation = ?, at = ?, direction = ?, state = ?, content = ?,
        edited_at = ?, deleted_at = ?, updated_at = ? WHERE id = ?`,
      history: `INSERT INTO message_history (id, message_id, kind, actor, at, data, previous)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      eraseEdits:
        "UPDATE message_history SET data = NULL, previous = NULL WHERE message_id = ? AND kind = 'edit'",
      contact: `INSERT INTO contacts (actor, verification, data, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (actor) DO UPDATE SET verification = excluded.verification, data = excluded.data,
        updated_at = excluded.updated_at`,
      contactRemove: "DELETE FROM contacts WHERE actor = ?",
      enqueue: `INSERT INTO outbox (id, conversation, state, attempts, next_attempt_at, payload, created_at, updated_at)
        VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)`,
      outboxRow: "SELECT * FROM outbox WHERE id = ?",
      outboxUpdate: `UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, payload = ?,
        updated_at = ? WHERE id = ?`,
      outboxRemove: "DELETE FROM outbox WHERE id = ?",
      setting: `INSERT INTO settings (name, value) VALUES (?, ?)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      settingRemove: "DELETE FROM settings WHERE name = ?",
      held: `INSERT INTO held (id, conversation, epoch, sender, rank, bytes, held_at, activity)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      heldRemove: "DELETE FROM held WHERE id = ?",
      heldHas: "SELECT 1 AS hit FROM held WHERE id = ?",
      heldExpired: "SELECT id FROM held WHERE held_at < ?",
      heldUse: `SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes, 
        coalesce(sum(conversation = ?), 0) AS conversation, coalesce(sum(sender = ?), 0) AS sender,
        coalesce(sum(CASE WHEN sender = ? THEN bytes ELSE 0 END), 0) AS senderBytes FROM held`,
      heldOldestOfConversation:
        "SELECT id FROM held WHERE conversation = ? AND rank <= ? ORDER BY rank, held_at, id LIMIT 1",
      heldOldestOfSender:
        "SELECT id FROM held WHERE sender = ? AND rank <= ? ORDER BY rank, held_at, id LIMIT 1",
      heldLargestSender: `SELECT rank, sender FROM held WHERE rank <= ? GROUP BY rank, sender
        ORDER BY rank, sum(bytes) DESC, sender LIMIT 1`,
      cursor: `INSERT INTO cursors (name, position, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    };
    this.#s = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));
  }

  #run(name: string, ...params: (string | number | null | Uint8Array)[]): number {
    return Number(this.#stmt(name).run(...params).changes);
  }

  #stmt(name: string): StatementSync {
    return this.#s[name] as StatementSync;
  }

  #row(name: string, key: string): Row | undefined {
    return this.#stmt(name).get(key) as Row | undefined;
  }

  /** Writes the unit; returns the held messages it dropped to stay within the limits. */
  write(unit: Unit, at: number): string[] {
    const c = this.#cipher;
    for (const k of unit.deviceKeys ?? []) {
      const row = { id: k.id, public: k.publicKey, created_at: k.createdAt };
      this.#run(
        "deviceKey",
        k.id,
        k.publicKey,
        c.seal("device_keys", "private", row, k.privateKey),
        k.createdAt,
      );
    }
    for (const k of unit.keyPackages ?? []) {
      const row = {
        ref: k.ref,
        public: k.keyPackage,
        object_id: k.objectId ?? null,
        created_at: k.createdAt,
        expires_at: k.expiresAt ?? null,
        last_resort: k.lastResort ? 1 : 0,
      };
      this.#run(
        "keyPackage",
        k.ref,
        k.keyPackage,
        c.seal("key_packages", "private", row, k.privateKey),
        row.object_id,
        k.createdAt,
        row.expires_at,
        row.last_resort,
      );
    }
    for (const ref of unit.keyPackagesRemoved ?? []) this.#run("keyPackageRemove", ref);
    for (const g of unit.groups ?? []) {
      const row = { id: g.id, epoch: g.epoch };
      const changed = this.#run(
        "group",
        g.id,
        g.epoch,
        c.seal("groups", "state", row, g.state),
        c.sealJson("groups", "meta", row, { members: g.members, info: g.info ?? null }),
        at,
      );
      if (changed === 0)
        throw new StorageError("invalid_unit", `group state would go back to epoch ${g.epoch}`);
    }
    for (const id of unit.groupsRemoved ?? []) this.#run("groupRemove", id);
    for (const m of unit.messages ?? []) {
      const fresh = {
        id: m.id,
        conversation: m.conversation,
        at: m.at,
        direction: m.direction,
        state: m.state,
        edited_at: null,
        deleted_at: null,
      };
      // A new message (nearly every one) is one statement; only one already stored is read back.
      const sealed = c.sealJson("messages", "content", fresh, { author: m.author, body: m.body });
      if (this.#run("message", m.id, m.conversation, m.at, m.direction, m.state, sealed, at) > 0) continue;
      const old = this.#row("messageRow", m.id) as Row;
      const row = { ...fresh, edited_at: old.edited_at ?? null, deleted_at: old.deleted_at ?? null };
      // A replayed upsert does not bring back a deleted body.
      const content: MessageContent =
        old.deleted_at === null
          ? { author: m.author, body: m.body }
          : {
              ...c.openJson<MessageContent>("messages", "content", old, old.content as Uint8Array),
              body: null,
            };
      this.#updateMessage(row, content, at);
    }
    for (const change of unit.messageChanges ?? []) this.#change(change, at);
    for (const { id, state } of unit.messageStates ?? []) {
      const old = this.#row("messageRow", id);
      if (old === undefined) continue;
      const content = c.openJson<MessageContent>("messages", "content", old, old.content as Uint8Array);
      this.#updateMessage({ ...old, state }, content, at);
    }
    for (const k of unit.contacts ?? []) {
      const data = { name: k.name ?? null, devices: k.devices };
      const row = { actor: k.actor, verification: k.verification };
      this.#run("contact", k.actor, k.verification, c.sealJson("contacts", "data", row, data), at);
    }
    for (const actor of unit.contactsRemoved ?? []) this.#run("contactRemove", actor);
    for (const change of unit.outbox ?? []) this.#outbox(change, at);
    for (const [name, value] of Object.entries(unit.settings ?? {})) {
      if (value === null) this.#run("settingRemove", name);
      else this.#run("setting", name, c.sealJson("settings", "value", { name }, value));
    }
    if (unit.cursor) this.#run("cursor", unit.cursor.name, unit.cursor.position, at);
    for (const id of unit.heldRemoved ?? []) this.#run("heldRemove", id);
    const dropped: string[] = [];
    if (unit.held !== undefined && unit.held.length > 0) {
      const expired = this.#stmt("heldExpired").all(at - this.#heldLimits.maxAgeMs) as { id: string }[];
      for (const { id } of expired) {
        this.#run("heldRemove", id);
        dropped.push(id);
      }
      for (const item of unit.held) this.#hold(item, at, dropped);
    }
    return dropped;
  }

  #updateMessage(row: Row, content: MessageContent, at: number): void {
    this.#run(
      "messageUpdate",
      row.conversation as string,
      row.at as number,
      row.direction as string,
      row.state as string,
      this.#cipher.sealJson("messages", "content", row, content),
      row.edited_at as number | null,
      row.deleted_at as number | null,
      at,
      row.id as string,
    );
  }

  #change(change: MessageChange, at: number): void {
    const c = this.#cipher;
    const row = this.#row("messageRow", change.messageId);
    // Only edits and deletes touch the message; reactions are history alone.
    const touches = change.kind === "edit" || change.kind === "delete";
    const live = touches && row !== undefined && row.deleted_at === null;
    // An edit older than the newest one applied is history only.
    const current =
      live && (change.kind !== "edit" || row.edited_at === null || (row.edited_at as number) <= change.at);
    const content = current
      ? c.openJson<MessageContent>("messages", "content", row, row.content as Uint8Array)
      : null;
    // An edit of a deleted message keeps no content.
    const data = change.kind === "edit" && row?.deleted_at != null ? null : (change.data ?? null);
    const previous = change.kind === "edit" ? (content?.body ?? null) : null;
    const entry = { id: change.id, message_id: change.messageId, kind: change.kind, at: change.at };
    const inserted = this.#run(
      "history",
      change.id,
      change.messageId,
      change.kind,
      c.sealJson("message_history", "actor", entry, change.actor),
      change.at,
      data === null ? null : c.sealJson("message_history", "data", entry, data),
      previous === null ? null : c.sealJson("message_history", "previous", entry, previous),
    );
    if (inserted === 0 || content === null || row === undefined) return;
    if (change.kind === "edit") {
      this.#updateMessage({ ...row, edited_at: change.at }, { author: content.author, body: data }, at);
    } else if (change.kind === "delete") {
      this.#updateMessage({ ...row, deleted_at: change.at }, { author: content.author, body: null }, at);
      this.#run("eraseEdits", change.messageId);
    }
  }

  #outbox(change: OutboxChange, at: number): void {
    if (change.op === "enqueue") {
      const row = {
        id: change.id,
        conversation: change.conversation ?? null,
        state: "queued",
        attempts: 0,
        next_attempt_at: change.notBefore ?? at,
        last_error: null,
        created_at: at,
      };
      this.#run(
        "enqueue",
        change.id,
        row.conversation,
        row.next_attempt_at,
        this.#cipher.sealJson("outbox", "payload", row, change.payload),
        at,
        at,
      );
      return;
    }
    const old = this.#row("outboxRow", change.id);
    if (old === undefined || (change.op === "retry" && old.state !== "queued"))
      throw new StorageError("invalid_unit", `outbox ${change.op}: no such queued item`);
    if (change.op === "remove") {
      this.#run("outboxRemove", change.id);
      return;
    }
    const attempts = (old.attempts as number) + 1;
    const row: Row =
      change.op === "sent"
        ? { ...old, state: "sent" }
        : change.op === "retry"
          ? { ...old, attempts, last_error: change.error, next_attempt_at: change.nextAttemptAt }
          : { ...old, state: "failed", attempts, last_error: change.error };
    const payload = this.#cipher.open("outbox", "payload", old, old.payload as Uint8Array);
    this.#run(
      "outboxUpdate",
      row.state as string,
      row.attempts as number,
      row.next_attempt_at as number,
      row.last_error as string | null,
      this.#cipher.seal("outbox", "payload", row, payload),
      at,
      change.id,
    );
  }

  /**
   * Holds one message within the limits: when a quota (its conversation's, its sender's, the total) is full,
   * the oldest item of the lowest rank in that quota makes room, never one ranked above the new item (then the
   * new item is dropped instead); for the total, the lowest rank's sender holding the most bytes gives first.
   */
  #hold(item: HeldItem, at: number, dropped: string[]): void {
    const limits = this.#heldLimits;
    if (this.#row("heldHas", item.id) !== undefined) return;
    const base = { id: item.id, conversation: item.conversation, epoch: item.epoch, sender: item.sender };
    const plain = encoder.encode(JSON.stringify(item.activity));
    // The sealed length is the plaintext's plus a fixed overhead, so it can be bound before sealing.
    const row = { ...base, rank: item.rank, bytes: plain.length + SEALED_OVERHEAD, held_at: at };
    const bytes = row.bytes;
    if (bytes > limits.perSenderBytes || bytes > limits.totalBytes) {
      dropped.push(item.id);
      return;
    }
    const use = () =>
      this.#stmt("heldUse").get(item.conversation, item.sender, item.sender) as {
        n: number;
        bytes: number;
        conversation: number;
        sender: number;
        senderBytes: number;
      };
    for (let u = use(); ; u = use()) {
      let victim: string | undefined;
      if (u.conversation + 1 > limits.perConversation) {
        victim = this.#victim("heldOldestOfConversation", item.conversation, item.rank);
      } else if (u.sender + 1 > limits.perSender || u.senderBytes + bytes > limits.perSenderBytes) {
        victim = this.#victim("heldOldestOfSender", item.sender, item.rank);
      } else if (u.n + 1 > limits.total || u.bytes + bytes > limits.totalBytes) {
        const largest = this.#stmt("heldLargestSender").get(item.rank) as
          | { sender: string; rank: number }
          | undefined;
        victim = largest && this.#victim("heldOldestOfSender", largest.sender, largest.rank);
      } else break;
      if (victim === undefined) {
        dropped.push(item.id);
        return;
      }
      this.#run("heldRemove", victim);
      dropped.push(victim);
    }
    const sealed = this.#cipher.seal("held", "activity", row, plain);
    const { conversation, epoch, sender, rank } = row;
    this.#run("held", item.id, conversation, epoch, sender, rank, bytes, at, sealed);
  }

  #victim(statement: string, scope: string, rank: number): string | undefined {
    return (this.#stmt(statement).get(scope, rank) as { id: string } | undefined)?.id;
  }
}

const encoder = new TextEncoder();
