// The bridge: XMPP chats become operations of the user's puppet on the Fediverse, changes its puppet sees
// become XMPP stanzas from the peer's JID (or, in a group conversation, from the member's nick in the user's
// room). It keeps the id pairs in GatewayState and tells each XMPP user once per conversation that encryption
// ends at the gateway.
import { ok, type Result } from "@sotto/core";
import { type BareJid, formatBareJid } from "./addressing.js";
import type { Chat } from "./chat.js";
import { type FediverseError, type MediaError, StanzaError } from "./errors.js";
import type { Delivery, FediverseActor, FediverseSide, Membership, Received } from "./fediverse.js";
import type { Log } from "./log.js";
import {
  chatForChange,
  type FediverseChange,
  type KnownMessage,
  type Operation,
  operationsForChat,
  plainText,
} from "./mapping.js";
import { fetchFiles, mediaToken } from "./media.js";
import type { GatewayState } from "./state.js";
import { type RoomSnapshot, roomLocalpart } from "./xmpp/muc.js";
import type { XmppSide, XmppSideHandlers } from "./xmpp/xmpp-side.js";

export const ENCRYPTION_NOTICE =
  "ℹ️ This conversation is bridged to the Fediverse by a gateway. Messages are end-to-end encrypted (MLS) " +
  "between the gateway and the Fediverse, but not between you and the gateway: the gateway can read them.";

export const GROUP_INVITATION = `You were added to a Fediverse group conversation. ${ENCRYPTION_NOTICE}`;

export interface BridgeOptions {
  readonly xmpp: XmppSide;
  readonly fediverse: FediverseSide;
  readonly state: GatewayState;
  readonly log: Log;
  readonly newId: () => string;
  /** Serves the Fediverse side's files to XMPP users; fetches theirs (private addresses: tests only). */
  readonly media: {
    readonly url: (token: string, name?: string) => string;
    readonly allowPrivateAddress: boolean;
  };
}

function mediaError(e: MediaError): StanzaError {
  return e.code === "unreachable"
    ? new StanzaError("unknown_recipient", e.message, "remote-server-not-found")
    : new StanzaError("malformed", e.message, e.code === "too_large" ? "not-acceptable" : "bad-request");
}

function conversationKey(user: BareJid, handle: string): string {
  return `${formatBareJid(user)} ${handle.toLowerCase()}`;
}

function roomKey(user: BareJid, conversationId: string): string {
  return `${formatBareJid(user)} room ${conversationId}`;
}

function toStanzaError(e: FediverseError): StanzaError {
  switch (e.code) {
    case "unknown_actor":
      return new StanzaError("unknown_recipient", e.message, "item-not-found");
    case "unreachable":
      return new StanzaError(
        "unknown_recipient",
        `the Fediverse server cannot be reached: ${e.message}`,
        "remote-server-not-found",
      );
    default:
      return new StanzaError("unsupported", `the Fediverse side failed: ${e.message}`, "service-unavailable");
  }
}

export class Bridge implements XmppSideHandlers {
  readonly #o: BridgeOptions;

  constructor(options: BridgeOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { state } = this.#o;
    this.#o.xmpp.rooms.persistIn({
      load: (room) => new Map(JSON.parse(state.cursor(`occupants ${room}`) ?? "[]") as [string, string][]),
      save: (room, occupants) => state.setCursor(`occupants ${room}`, JSON.stringify([...occupants])),
    });
    await this.#o.fediverse.start((r) => this.receive(r));
    await this.#o.xmpp.start(this);
  }

  /** Stops receiving from the Fediverse first, lets the XMPP link write what is queued, then closes it. */
  async stop(): Promise<void> {
    await this.#o.fediverse.stop();
    await this.#o.xmpp.link.drain();
    await this.#o.xmpp.stop();
  }

  async #actor(handle: string): Promise<Result<FediverseActor, StanzaError>> {
    const key = handle.toLowerCase();
    const cached = this.#o.state.actor(key);
    if (cached) return ok(cached);
    const found = await this.#o.fediverse.lookup(key);
    if (!found.ok) return { ok: false, error: toStanzaError(found.error) };
    this.#o.state.setActor({ ...found.value, handle: key });
    return ok({ ...found.value, handle: key });
  }

  async contact(user: BareJid, handle: string): Promise<Result<{ readonly name?: string }, StanzaError>> {
    const actor = await this.#actor(handle);
    if (!actor.ok) return actor;
    const puppet = await this.#o.fediverse.ensurePuppet(user);
    if (!puppet.ok) return { ok: false, error: toStanzaError(puppet.error) };
    return ok(actor.value.name ? { name: actor.value.name } : {});
  }

  async chat(user: BareJid, handle: string, chat: Chat): Promise<Result<void, StanzaError>> {
    const actor = await this.#actor(handle);
    if (!actor.ok) return actor;
    const puppet = await this.#o.fediverse.ensurePuppet(user);
    if (!puppet.ok) return { ok: false, error: toStanzaError(puppet.error) };
    const peer = actor.value;
    const key = conversationKey(user, peer.handle);
    const done = await this.#apply(user, key, chat, (operation) => {
      this.#noticeOnce(user, peer.handle);
      return this.#o.fediverse.perform(user, peer, operation);
    });
    if (!done.ok) return done;
    // Answered when the puppet's outbox has posted it (`receive`, kind `stored`). In a room, the reflected
    // message is the confirmation (XEP-0045 discourages receipts there).
    if (done.value && chat.type === "message" && chat.receipt) {
      this.#o.state.awaitReceipt(key, done.value, chat.alias ?? chat.id);
    }
    return ok(undefined);
  }

  /** Which group conversation a room stands for; only its own user may use it. */
  #room(user: BareJid, room: string): Result<string, StanzaError> {
    const saved = this.#o.state.cursor(`room ${room}`);
    const { user: owner, conversationId } = saved
      ? (JSON.parse(saved) as { user: string; conversationId: string })
      : { user: "", conversationId: "" };
    if (!conversationId || owner !== formatBareJid(user)) {
      return { ok: false, error: new StanzaError("unknown_recipient", "no such room", "item-not-found") };
    }
    return ok(conversationId);
  }

  async joinRoom(user: BareJid, room: string): Promise<Result<RoomSnapshot, StanzaError>> {
    const conversationId = this.#room(user, room);
    if (!conversationId.ok) return conversationId;
    const view = await this.#o.fediverse.group(user, conversationId.value);
    if (!view.ok) return { ok: false, error: toStanzaError(view.error) };
    const { state } = this.#o;
    const key = roomKey(user, conversationId.value);
    const history = view.value.history.map((m) => {
      // The user can refer to what the room shows: correct, react to, mark as read.
      if (m.author) state.remember(key, { xmppId: m.messageId, messageId: m.messageId, author: "fediverse" });
      return {
        id: state.byMessageId(key, m.messageId)?.xmppId ?? m.messageId,
        stanzaId: m.messageId,
        ...(m.author ? { nick: m.author.handle } : {}),
        text: plainText(m.content, m.mediaType),
        published: m.published,
      };
    });
    const occupants = view.value.members.map((m) => m.handle);
    return ok({ title: roomSubject(view.value.title, view.value.members), occupants, history });
  }

  async roomChat(
    user: BareJid,
    room: string,
    chat: Chat,
  ): Promise<Result<{ readonly stanzaId?: string }, StanzaError>> {
    const conversationId = this.#room(user, room);
    if (!conversationId.ok) return conversationId;
    const key = roomKey(user, conversationId.value);
    // In a room, reactions and retractions refer to the room's stanza-id: the Note id.
    const done = await this.#apply(
      user,
      key,
      chat,
      (operation) => this.#o.fediverse.performIn(user, conversationId.value, operation),
      (id) => this.#o.state.byMessageId(key, id),
    );
    return done.ok ? ok(done.value ? { stanzaId: done.value } : {}) : done;
  }

  /**
   * A chat of the XMPP user as operations of its puppet, remembering the id of what it sends; gives the new
   * Note's id for a message. `byOtherId` finds messages the chat may also refer to by another id.
   */
  async #apply(
    user: BareJid,
    key: string,
    chat: Chat,
    perform: (operation: Operation) => Promise<Result<{ readonly messageId?: string }, FediverseError>>,
    byOtherId: (id: string) => KnownMessage | undefined = () => undefined,
  ): Promise<Result<string | undefined, StanzaError>> {
    const { state, fediverse } = this.#o;
    const operations = operationsForChat(chat, {
      byXmppId: (id) => state.byXmppId(key, id) ?? byOtherId(id),
      ownReactions: (messageId) => fediverse.ownReactions(user, messageId),
    });
    if (!operations.ok) return operations;
    const links = chat.type === "message" ? (chat.links ?? []) : [];
    const files =
      links.length > 0
        ? await fetchFiles(
            links.map((l) => l.url),
            this.#o.media,
          )
        : ok(undefined);
    if (!files.ok) return { ok: false, error: mediaError(files.error) };
    let sent: string | undefined;
    for (const planned of operations.value) {
      const operation =
        planned.op === "send" && files.value ? { ...planned, attachments: files.value } : planned;
      const done = await perform(operation);
      if (!done.ok) return { ok: false, error: toStanzaError(done.error) };
      if (operation.op === "send" && done.value.messageId) {
        sent = done.value.messageId;
        const alias = chat.type === "message" ? chat.alias : undefined;
        state.remember(key, { xmppId: chat.id, messageId: sent, author: "xmpp" }, alias);
      }
    }
    this.#o.log("debug", "bridge.to_fediverse", { kind: chat.type, operations: operations.value.length });
    return ok(sent);
  }

  /**
   * One change seen by a puppet. Bad or unknown data is logged and skipped; nothing throws. While the XMPP
   * link is down the change waits on the Fediverse side (`retry`), so a stop then loses nothing.
   */
  async receive(r: Received | Membership): Promise<Delivery> {
    const { state, log } = this.#o;
    if (!this.#o.xmpp.link.online) return "retry";
    if ("members" in r) return this.#membership(r);
    const handle = r.peer.handle.toLowerCase();
    state.setActor({ ...r.peer, handle });
    const { change } = r;
    if (change.kind === "stored") {
      const of = state.takeReceipt(conversationKey(r.user, handle), change.messageId);
      if (of)
        this.#o.xmpp.deliver(r.user, handle, { type: "receipt", id: this.#o.newId(), of, kind: "received" });
      return "done";
    }
    if (this.#isRoom(r.user, r.conversationId, r.memberCount))
      return this.#groupChange({ ...r, change }, handle);
    const chat = this.#chatFor({ ...r, change }, conversationKey(r.user, handle));
    if (chat === undefined) return "done";
    this.#noticeOnce(r.user, handle);
    this.#o.xmpp.deliver(r.user, handle, chat);
    log("debug", "bridge.to_xmpp", { kind: chat.type });
    return "done";
  }

  /**
   * The room of a group conversation: known from now on, and the user invited the first time (when the puppet
   * is added, or, for a group joined before, with its first change).
   */
  #openRoom(user: BareJid, conversationId: string): string {
    const { state } = this.#o;
    const room = roomLocalpart(user, conversationId);
    state.setCursor(`room ${room}`, JSON.stringify({ user: formatBareJid(user), conversationId }));
    if (state.firstTime(`invite ${room}`)) this.#o.xmpp.rooms.invite(user, room, GROUP_INVITATION);
    return room;
  }

  /** A group is a room: it has more than two members, or had (a room stays one when members leave). */
  #isRoom(user: BareJid, conversationId: string, memberCount: number): boolean {
    return (
      memberCount > 2 || this.#o.state.cursor(`room ${roomLocalpart(user, conversationId)}`) !== undefined
    );
  }

  /**
   * The puppet joined a group, or its members or title changed: an invitation, members coming and going, the
   * room's subject when it changed.
   */
  #membership(m: Membership): Delivery {
    if (!this.#isRoom(m.user, m.conversationId, m.members.length + 1)) return "done";
    const room = this.#openRoom(m.user, m.conversationId);
    for (const gone of m.removed) this.#o.xmpp.rooms.member(room, gone.handle, false);
    for (const came of m.added) this.#o.xmpp.rooms.member(room, came.handle, true);
    const subject = roomSubject(m.title, m.members);
    const shown = `subject ${room}`;
    if (this.#o.state.cursor(shown) !== subject) {
      this.#o.state.setCursor(shown, subject);
      this.#o.xmpp.rooms.subject(room, subject);
    }
    return "done";
  }

  /** A change in a group: shown in the user's room when joined. */
  #groupChange(r: Received & { readonly change: FediverseChange }, handle: string): Delivery {
    const { log } = this.#o;
    const room = this.#openRoom(r.user, r.conversationId);
    const chat = this.#chatFor(r, roomKey(r.user, r.conversationId));
    if (chat === undefined) return "done";
    // Not joined: the room replays the conversation from the puppet's store when the user joins.
    const shown = this.#o.xmpp.rooms.deliver(room, handle, chat);
    log("debug", "bridge.to_room", { kind: chat.type, shown });
    return "done";
  }

  /** The XMPP chat for a change, its id pair remembered under `key`; undefined (logged) if it maps to none. */
  #chatFor(r: Received & { readonly change: FediverseChange }, key: string): Chat | undefined {
    const { state, log } = this.#o;
    const user = formatBareJid(r.user);
    const incoming = chatForChange(r.change, {
      byMessageId: (id) => state.byMessageId(key, id),
      fileUrl: (messageId, index, name) =>
        this.#o.media.url(state.mediaToken(user, messageId, index, mediaToken), name),
    });
    if (!incoming.ok) {
      log("warn", "bridge.skipped", {
        code: incoming.error.code,
        kind: r.change.kind,
        conversation: r.conversationId,
      });
      return undefined;
    }
    if (incoming.value.remember) state.remember(key, incoming.value.remember);
    return incoming.value.chat;
  }

  #noticeOnce(user: BareJid, handle: string): void {
    if (this.#o.state.firstTime(conversationKey(user, handle)))
      this.#o.xmpp.notice(user, handle, ENCRYPTION_NOTICE);
  }
}

/** A room's subject: the group's title, else its other members' handles. */
function roomSubject(title: string | null, members: readonly { readonly handle: string }[]): string {
  return title ?? members.map((m) => m.handle).join(", ");
}
