// The Fediverse side: the gateway's own home server (sotto-server, Fedify) on its domain, where every XMPP
// user has an actor, and for each such actor an MLS device run by sottod's engine (`Daemon`) in this process,
// with its own encrypted @sotto/storage store. The engine publishes KeyPackages, joins conversations from
// Welcomes, keeps the MLS state and sends through the actor's outbox; this file turns its operations and
// events into the bridge's terms. Events are bridged from a per-puppet cursor (the event log's `seq`), so a
// restart replays what was not yet shown on XMPP.
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ActivityPubClient } from "@sotto/activitypub";
import { canonicalApplicationId, err, ok, type Result } from "@sotto/core";
import { Daemon } from "@sotto/daemon";
import { type SottoServer, startServer } from "@sotto/server";
import { type BareJid, formatBareJid, jidForUsername, usernameForJid } from "./addressing.js";
import { backlogWait, doneUpTo, inPublishedOrder } from "./catch-up.js";
import { FediverseError } from "./errors.js";
import type {
  Delivery,
  FediverseActor,
  FediverseSide,
  GroupView,
  Membership,
  Received,
  Stored,
} from "./fediverse.js";
import type { Log } from "./log.js";
import type { FediverseChange, Operation } from "./mapping.js";
import type { MediaFile } from "./media.js";
import type { GatewayState } from "./state.js";

export interface PuppetsOptions {
  /** Where the home server's database, the puppets' stores and their key file live. */
  readonly dataDir: string;
  /** The gateway's home server (sotto-server) for the puppet actors. */
  readonly server: {
    /** `mysql://...`: the home server's tables in MariaDB/MySQL instead of a SQLite file in dataDir. */
    readonly database?: string;
    readonly port?: number;
    readonly host?: string;
    readonly origin?: string;
    readonly domain?: string;
  };
  /** The XMPP domain whose simple JIDs keep their localpart as username. */
  readonly defaultXmppDomain: string;
  readonly state: GatewayState;
  readonly log: Log;
  /** Loopback and private addresses, plain-HTTP WebFinger: tests and local setups only. */
  readonly allowPrivateAddress?: boolean;
  /** Poll interval of the engines' sync when the server offers no event stream. */
  readonly pollIntervalMs?: number;
}

interface Puppet {
  readonly user: BareJid;
  readonly username: string;
  readonly daemon: Daemon;
  draining: Promise<void>;
  unsubscribe: () => void;
  /** Set while a change waits for the XMPP side or a backlog settles: the drain is tried again when it fires. */
  retry?: NodeJS.Timeout;
  /** When the engine last committed something, and when the backlog being held was first seen. */
  lastCommitAt: number;
  backlogSince?: number;
}

/** The event types the bridge acts on; others can be reordered around (catch-up.ts). */
const BRIDGED = new Set([
  "message.created",
  "message.updated",
  "message.deleted",
  "reactions.changed",
  "receipt",
  "outbox.state",
  "conversation.created",
  "conversation.members_changed",
  "conversation.updated",
]);

/** The engine's structured logger, written through the gateway's log. */
function engineLogger(log: Log, base: Readonly<Record<string, unknown>>) {
  const make = (fields: Readonly<Record<string, unknown>>): EngineLogger => ({
    debug: (event, f) => log("debug", `engine.${event}`, { ...fields, ...f }),
    info: (event, f) => log("debug", `engine.${event}`, { ...fields, ...f }),
    warn: (event, f) => log("warn", `engine.${event}`, { ...fields, ...f }),
    error: (event, f) => log("error", `engine.${event}`, { ...fields, ...f }),
    child: (f) => make({ ...fields, ...f }),
  });
  return make(base);
}
type EngineFields = Readonly<Record<string, string | number | boolean | null | undefined>>;
interface EngineLogger {
  debug(event: string, fields?: EngineFields): void;
  info(event: string, fields?: EngineFields): void;
  warn(event: string, fields?: EngineFields): void;
  error(event: string, fields?: EngineFields): void;
  child(fields: EngineFields): EngineLogger;
}

/** Maps what the engine, the C2S client or the server threw onto the bridge's error codes. */
function failure(e: unknown, fallback: FediverseError["code"]): FediverseError {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === "conversation_not_found")
    return new FediverseError("unknown_conversation", message, { cause: e });
  if (code === "actor_not_found" || code === "not_found" || code === "gone" || code === "invalid_url") {
    return new FediverseError("unknown_actor", message, { cause: e });
  }
  if (
    code === "network" ||
    code === "server_error" ||
    code === "rate_limited" ||
    code === "invalid_response"
  ) {
    return new FediverseError("unreachable", message, { cause: e });
  }
  if (typeof code === "string" && /mls|key_package|authentication|not_member|conversation/.test(code)) {
    return new FediverseError("mls", message, { cause: e });
  }
  return new FediverseError(fallback, message, { cause: e });
}

export class Puppets implements FediverseSide {
  readonly server: SottoServer;
  readonly #o: PuppetsOptions;
  readonly #client: ActivityPubClient;
  readonly #keyFile: string;
  readonly #puppets = new Map<string, Puppet>();
  readonly #creating = new Map<string, Promise<Result<Puppet, FediverseError>>>();
  #receive: ((r: Received | Membership) => Promise<Delivery>) | undefined;
  #stopped = false;
  /** When the bridge started: messages published before are a backlog (catch-up.ts). */
  #startedAt = Number.POSITIVE_INFINITY;

  private constructor(options: PuppetsOptions, server: SottoServer, keyFile: string) {
    this.#o = options;
    this.server = server;
    this.#keyFile = keyFile;
    const loopback = options.allowPrivateAddress ?? false;
    this.#client = new ActivityPubClient({ allowPrivateAddress: loopback, plainHttpWebFinger: loopback });
  }

  /** Starts the home server and reopens every puppet created before. */
  static async open(options: PuppetsOptions): Promise<Puppets> {
    mkdirSync(join(options.dataDir, "puppets"), { recursive: true, mode: 0o700 });
    const keyFile = join(options.dataDir, "puppets.key");
    if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32), { mode: 0o600, flag: "wx" });
    const server = await startServer({ dataDir: join(options.dataDir, "server"), ...options.server });
    const puppets = new Puppets(options, server, keyFile);
    for (const username of readdirSync(join(options.dataDir, "puppets"))) {
      const user = jidForUsername(username, options.defaultXmppDomain);
      if (!user.ok) continue;
      const daemon = await Daemon.open(puppets.#daemonOptions(username)).catch((e: unknown) => {
        options.log("error", "puppet.open_failed", { username, error: (e as Error).message });
        return undefined;
      });
      if (daemon) puppets.#puppets.set(username, puppets.#puppet(user.value, username, daemon));
    }
    return puppets;
  }

  get origin(): string {
    return this.server.origin;
  }

  /** The engine of an XMPP user's puppet, if it exists (status, diagnostics, tests). */
  device(user: BareJid): Daemon | undefined {
    return this.#puppets.get(usernameForJid(user, this.#o.defaultXmppDomain))?.daemon;
  }

  #daemonOptions(username: string) {
    return {
      dataDir: join(this.#o.dataDir, "puppets", username),
      key: { keyFile: this.#keyFile },
      logger: engineLogger(this.#o.log, { puppet: username }),
      pollIntervalMs: this.#o.pollIntervalMs,
      fetch: this.#fetch,
    };
  }

  /** The puppets' HTTP: their own home server in-process (no loopback socket), anything else over the network. */
  readonly #fetch: typeof globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.startsWith(`${this.server.origin}/`)
      ? this.server.fetch(input, init)
      : globalThis.fetch(input, init);
  };

  #puppet(user: BareJid, username: string, daemon: Daemon): Puppet {
    return {
      user,
      username,
      daemon,
      draining: Promise.resolve(),
      unsubscribe: () => undefined,
      lastCommitAt: 0,
    };
  }

  async lookup(handle: string): Promise<Result<FediverseActor, FediverseError>> {
    try {
      const actor = await this.#client.getActor(handle);
      return ok({ handle, actorId: actor.id, ...(actor.name ? { name: actor.name } : {}) });
    } catch (e) {
      return err(failure(e, "unknown_actor"));
    }
  }

  async ensurePuppet(user: BareJid): Promise<Result<{ readonly actorId: string }, FediverseError>> {
    const puppet = await this.#ensure(user);
    return puppet.ok ? ok({ actorId: puppet.value.daemon.actorId }) : puppet;
  }

  async #ensure(user: BareJid): Promise<Result<Puppet, FediverseError>> {
    const username = usernameForJid(user, this.#o.defaultXmppDomain);
    const existing = this.#puppets.get(username);
    if (existing) return ok(existing);
    const pending = this.#creating.get(username) ?? this.#create(user, username);
    this.#creating.set(username, pending);
    try {
      return await pending;
    } finally {
      this.#creating.delete(username);
    }
  }

  async #create(user: BareJid, username: string): Promise<Result<Puppet, FediverseError>> {
    try {
      const { actorId, token } = await this.server.createUser(username);
      const loopback = this.#o.allowPrivateAddress ?? false;
      const daemon = await Daemon.init({
        ...this.#daemonOptions(username),
        actor: actorId,
        token,
        deviceName: `sotto-xmpp for ${formatBareJid(user)}`,
        network: { allowPrivateAddress: loopback, plainHttpWebFinger: loopback },
      });
      // Publish KeyPackages before anyone is told about this actor, so it can be invited at once.
      await daemon.maintainKeyPackages();
      const puppet = this.#puppet(user, username, daemon);
      this.#puppets.set(username, puppet);
      if (this.#receive) await this.#run(puppet);
      this.#o.log("info", "puppet.created", { username });
      return ok(puppet);
    } catch (e) {
      this.#o.log("error", "puppet.create_failed", { username, error: (e as Error).message });
      return err(failure(e, "not_ready"));
    }
  }

  file(user: BareJid, messageId: string, index: number): MediaFile | undefined {
    const puppet = this.#puppets.get(usernameForJid(user, this.#o.defaultXmppDomain));
    const conversation = puppet?.daemon.store.message(messageId)?.conversation;
    if (!puppet || !conversation) return undefined;
    const a = puppet.daemon.getMessage(conversation, messageId).attachments?.[index];
    return (
      a && {
        mediaType: a.mediaType,
        ...(a.name ? { name: a.name } : {}),
        data: Buffer.from(a.data, "base64"),
      }
    );
  }

  ownReactions(user: BareJid, messageId: string): readonly string[] {
    const puppet = this.#puppets.get(usernameForJid(user, this.#o.defaultXmppDomain));
    const conversation = puppet?.daemon.store.message(messageId)?.conversation;
    if (!puppet || !conversation) return [];
    const { reactions } = puppet.daemon.getMessage(conversation, messageId);
    return reactions.filter((r) => r.actors.includes(puppet.daemon.actorId)).map((r) => r.emoji);
  }

  /** The 1:1 conversation of the puppet with `peer`: remembered, found, or created (inviting the peer). */
  async #conversation(puppet: Puppet, peer: FediverseActor): Promise<string> {
    const key = `conversation ${puppet.username} ${peer.actorId}`;
    const remembered = this.#o.state.cursor(key);
    if (remembered && puppet.daemon.store.group(remembered)) return remembered;
    const me = puppet.daemon.actorId;
    const found = puppet.daemon
      .listConversations()
      .conversations.find(
        (c) =>
          c.members.length === 2 &&
          c.members.some((m) => m.actorId === peer.actorId) &&
          c.members.some((m) => m.actorId === me),
      );
    const id = found?.id ?? (await puppet.daemon.createConversation({ members: [peer.actorId] })).id;
    this.#o.state.setCursor(key, id);
    return id;
  }

  async perform(
    user: BareJid,
    peer: FediverseActor,
    operation: Operation,
  ): Promise<Result<{ readonly messageId?: string }, FediverseError>> {
    const puppet = await this.#ensure(user);
    if (!puppet.ok) return puppet;
    let conversationId: string;
    try {
      conversationId = await this.#conversation(puppet.value, peer);
    } catch (e) {
      this.#o.log("warn", "puppet.conversation_failed", { code: String((e as { code?: unknown }).code) });
      return err(failure(e, "mls"));
    }
    return this.performIn(user, conversationId, operation);
  }

  async performIn(
    user: BareJid,
    conversationId: string,
    operation: Operation,
  ): Promise<Result<{ readonly messageId?: string }, FediverseError>> {
    const puppet = await this.#ensure(user);
    if (!puppet.ok) return puppet;
    const { daemon } = puppet.value;
    try {
      switch (operation.op) {
        case "send": {
          const message = await daemon.sendMessage({
            conversationId,
            text: operation.html,
            mediaType: "text/html",
            ...(operation.attachments ? { attachments: operation.attachments } : {}),
          });
          return ok({ messageId: message.id });
        }
        case "edit":
          await daemon.editMessage({
            conversationId,
            messageId: operation.messageId,
            text: operation.html,
            mediaType: "text/html",
          });
          return ok({});
        case "delete":
          await daemon.deleteMessage({ conversationId, messageId: operation.messageId });
          return ok({});
        case "react":
          await daemon.react({ conversationId, messageId: operation.messageId, emoji: operation.emoji });
          return ok({});
        case "unreact":
          await daemon.unreact({ conversationId, messageId: operation.messageId, emoji: operation.emoji });
          return ok({});
        case "read":
          await daemon.markRead({ conversationId, messageId: operation.messageId });
          return ok({});
      }
    } catch (e) {
      this.#o.log("warn", "puppet.operation_failed", {
        op: operation.op,
        code: String((e as { code?: unknown }).code),
      });
      return err(failure(e, "mls"));
    }
  }

  async group(user: BareJid, conversationId: string): Promise<Result<GroupView, FediverseError>> {
    const puppet = this.#puppets.get(usernameForJid(user, this.#o.defaultXmppDomain));
    if (!puppet)
      return err(new FediverseError("unknown_conversation", "this user has no Fediverse conversations"));
    try {
      const { daemon } = puppet;
      const me = daemon.actorId;
      const conversation = daemon.getConversation(conversationId);
      const actor = (actorId: string) => this.#member(actorId);
      const members: FediverseActor[] = [];
      for (const m of conversation.members) if (m.actorId !== me) members.push(await actor(m.actorId));
      const history: GroupView["history"][number][] = [];
      const messages = daemon.listMessages({ conversationId, limit: 50 }).messages.filter((m) => !m.deleted);
      for (const m of messages.toSorted((a, b) => a.published.localeCompare(b.published))) {
        const base = { messageId: m.id, content: m.content, mediaType: m.mediaType, published: m.published };
        history.push(m.author === me ? base : { ...base, author: await actor(m.author) });
      }
      return ok({ title: conversation.title, members, history });
    } catch (e) {
      return err(failure(e, "unknown_conversation"));
    }
  }

  async start(receive: (received: Received | Membership) => Promise<Delivery>): Promise<void> {
    this.#receive = receive;
    this.#startedAt = Date.now();
    for (const puppet of this.#puppets.values()) await this.#run(puppet);
  }

  async #run(puppet: Puppet): Promise<void> {
    puppet.unsubscribe = puppet.daemon.store.onCommit(() => {
      puppet.lastCommitAt = Date.now();
      this.#drain(puppet);
    });
    await puppet.daemon.start();
    this.#drain(puppet);
    await puppet.draining;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const puppet of this.#puppets.values()) {
      puppet.unsubscribe();
      clearTimeout(puppet.retry);
      await puppet.draining;
      await puppet.daemon.stop().catch(() => undefined);
    }
    this.#puppets.clear();
    await this.server.close();
  }

  /**
   * Bridges the puppet's new events, one at a time, advancing its cursor over what is shown. A backlog (what
   * arrived while the gateway was down) is held until it stops arriving, then shown in published order.
   */
  #drain(puppet: Puppet): void {
    clearTimeout(puppet.retry);
    const later = (ms: number) => {
      if (!this.#stopped) puppet.retry = setTimeout(() => this.#drain(puppet), ms);
    };
    puppet.draining = puppet.draining.then(async () => {
      const cursorName = `events ${puppet.username}`;
      for (let round = 0; round < 1000 && !this.#stopped; round++) {
        const after = Number(this.#o.state.cursor(cursorName) ?? "0");
        const page = puppet.daemon.store.since(after, 100);
        if (page.events.length === 0) return;
        const events = page.events.map((e) => ({ ...e, ...this.#drainEvent(puppet, e) }));
        const now = Date.now();
        const hasBacklog = events.some((e) => e.backlog !== undefined);
        if (hasBacklog) puppet.backlogSince ??= now;
        const wait = backlogWait(events, now, puppet.lastCommitAt, puppet.backlogSince ?? now);
        if (wait > 0) return later(wait);
        const done = new Set<number>();
        for (const event of inPublishedOrder(events)) {
          let delivery: Delivery = "done";
          try {
            delivery = await this.#bridgeEvent(puppet, event.type, event.data as Record<string, unknown>);
          } catch (e) {
            this.#o.log("error", "puppet.event_failed", { type: event.type, error: (e as Error).message });
          }
          if (delivery === "retry") return later(1000);
          done.add(event.seq);
          this.#o.state.setCursor(cursorName, String(doneUpTo(after, events, done)));
        }
        if (hasBacklog) puppet.backlogSince = undefined;
      }
    });
  }

  /** How the drain orders an event: a new message from someone else published before the bridge started. */
  #drainEvent(puppet: Puppet, e: { readonly type: string; readonly data: unknown }) {
    const neutral = !BRIDGED.has(e.type);
    const data = e.data as Record<string, unknown>;
    if (e.type !== "message.created" || typeof data.conversationId !== "string") return { neutral };
    // The stored row is enough (author and time): not the API's view, which reads history and receipts too.
    const m = puppet.daemon.store.message(canonicalApplicationId(String(data.messageId)));
    if (m === undefined || m.conversation !== data.conversationId) return { neutral };
    return m.author !== puppet.daemon.actorId && m.at < this.#startedAt
      ? { neutral, backlog: m.at }
      : { neutral };
  }

  async #bridgeEvent(puppet: Puppet, type: string, data: Record<string, unknown>): Promise<Delivery> {
    // Most events of a bridged message change nothing on XMPP (its outbox states before `sent`, the engine's
    // own bookkeeping): they are passed without reading the conversation and message from the store.
    if (!BRIDGED.has(type) || (type === "outbox.state" && data.state !== "sent")) return "done";
    const conversationId = typeof data.conversationId === "string" ? data.conversationId : undefined;
    const messageId = typeof data.messageId === "string" ? data.messageId : undefined;
    if (
      conversationId &&
      (type === "conversation.created" ||
        type === "conversation.members_changed" ||
        type === "conversation.updated")
    ) {
      return this.#membership(puppet, conversationId, data);
    }
    if (!conversationId || !messageId || !this.#receive) return "done";
    const { daemon } = puppet;
    const me = daemon.actorId;
    // The stored row says who wrote it; the API's view (history, reactions, each decrypted) is read only for
    // the changes that show it: most events here are of the puppet's own messages, which XMPP already has. The
    // members too are read only when a change goes out (or names no peer of its own).
    const author = daemon.store.message(canonicalApplicationId(messageId))?.author;
    const message = () => daemon.getMessage(conversationId, messageId);
    let members: readonly { readonly actorId: string }[] | undefined;
    const membersOf = () => {
      members ??= daemon.getConversation(conversationId).members;
      return members;
    };
    const onlyPeer = (): string | undefined => {
      const others = membersOf().filter((m) => m.actorId !== me);
      return others.length === 1 ? others[0]?.actorId : undefined;
    };
    let peerId: string | undefined;
    let change: FediverseChange | Stored | undefined;
    const changeId = `urn:uuid:${randomUUID()}`;
    switch (type) {
      case "message.created": {
        if (author === me) break;
        const m = message();
        peerId = m.author;
        change = {
          kind: "message",
          messageId,
          content: m.content,
          mediaType: m.mediaType,
          attachments: (m.attachments ?? []).map((a) => ({
            mediaType: a.mediaType,
            ...(a.name ? { name: a.name } : {}),
            size: Buffer.byteLength(a.data, "base64"),
          })),
        };
        break;
      }
      case "message.updated": {
        if (author === me) break;
        const seenKey = `edited ${puppet.username} ${messageId}`;
        const m = message();
        if (m.editedAt && !m.deleted && this.#o.state.cursor(seenKey) !== m.editedAt) {
          this.#o.state.setCursor(seenKey, m.editedAt);
          peerId = m.author;
          change = {
            kind: "edit",
            changeId,
            messageId,
            content: m.content,
            mediaType: m.mediaType,
          };
        }
        break;
      }
      case "message.deleted":
        if (author === me) break;
        peerId = message().author;
        change = { kind: "delete", changeId, messageId };
        break;
      case "reactions.changed": {
        peerId = onlyPeer();
        if (!peerId) break;
        const peer = peerId;
        const emojis = message()
          .reactions.filter((r) => r.actors.includes(peer))
          .map((r) => r.emoji);
        const seenKey = `reactions ${puppet.username} ${messageId}`;
        const seen = JSON.stringify(emojis);
        if ((this.#o.state.cursor(seenKey) ?? "[]") !== seen) {
          this.#o.state.setCursor(seenKey, seen);
          change = { kind: "reactions", changeId, messageId, emojis };
        }
        break;
      }
      case "outbox.state":
        if (data.state === "sent" && author === me) {
          peerId = onlyPeer();
          change = { kind: "stored", messageId };
        }
        break;
      case "receipt":
        if (typeof data.actor === "string" && data.actor !== me) {
          peerId = data.actor;
          change = {
            kind: "receipt",
            changeId,
            messageId,
            receipt: data.kind === "read" ? "read" : "delivered",
          };
        }
        break;
    }
    if (!change || !peerId) return "done";
    const peer = await this.#peer(peerId);
    if (!peer) {
      this.#o.log("warn", "puppet.unknown_peer", { conversation: conversationId });
      return "done";
    }
    return this.#receive({
      user: puppet.user,
      peer,
      conversationId,
      memberCount: membersOf().length,
      change,
    });
  }

  /** Who is in a conversation the puppet is in, and its title (welcomed into, members or title changed). */
  async #membership(
    puppet: Puppet,
    conversationId: string,
    data: Record<string, unknown>,
  ): Promise<Delivery> {
    const { daemon } = puppet;
    const me = daemon.actorId;
    const conversation = daemon.getConversation(conversationId);
    if (conversation.left || !this.#receive) return "done";
    const actors = async (ids: unknown): Promise<FediverseActor[]> => {
      const found: FediverseActor[] = [];
      for (const id of Array.isArray(ids) ? ids : []) {
        if (typeof id === "string" && id !== me) found.push(await this.#member(id));
      }
      return found;
    };
    return this.#receive({
      user: puppet.user,
      conversationId,
      title: conversation.title,
      members: await actors(conversation.members.map((m) => m.actorId)),
      added: await actors(data.added),
      removed: await actors(data.removed),
    });
  }

  /** A member by its handle when its actor can be read, else by its actor id. */
  async #member(actorId: string): Promise<FediverseActor> {
    return (await this.#peer(actorId)) ?? { handle: actorId, actorId };
  }

  /** The peer's handle: from the state, else from its actor document (`preferredUsername@host`). */
  async #peer(actorId: string): Promise<FediverseActor | undefined> {
    const known = this.#o.state.actorById(actorId);
    if (known) return known;
    try {
      const actor = await this.#client.getActor(actorId);
      if (!actor.preferredUsername) return undefined;
      const handle = `${actor.preferredUsername}@${new URL(actor.id).host}`.toLowerCase();
      const found: FediverseActor = {
        handle,
        actorId: actor.id,
        ...(actor.name ? { name: actor.name } : {}),
      };
      this.#o.state.setActor(found);
      return found;
    } catch {
      return undefined;
    }
  }
}
