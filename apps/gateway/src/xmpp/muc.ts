// Group conversations as rooms hosted by the component (XEP-0045, the parts a client needs to join, read
// and write): one private room per XMPP user and Fediverse group, `room.<20 hex>@<component>`. Each other
// member is an occupant named by its handle; joining replays the conversation from the puppet's store.
import { createHash } from "node:crypto";
import type { Result } from "@sotto/core";
import type { BareJid } from "../addressing.js";
import { formatBareJid } from "../addressing.js";
import type { Chat } from "../chat.js";
import { StanzaError } from "../errors.js";
import { readChatStanza, writeChatStanza } from "./chat-stanza.js";
import type { ComponentLink } from "./component-link.js";
import { discoInfo } from "./disco.js";
import { errorReply } from "./errors.js";
import { NS } from "./namespaces.js";
import { type Element, xml } from "./xml.js";

const ROOM = /^room\.[0-9a-f]{20}$/;
const MUC_USER = "http://jabber.org/protocol/muc#user";
const ROOM_FEATURES = [
  NS.muc,
  NS.sid,
  "muc_hidden",
  "muc_membersonly",
  "muc_nonanonymous",
  "muc_persistent",
  NS.discoInfo,
];

/** The room of one XMPP user's view of one Fediverse group conversation. */
export function roomLocalpart(user: BareJid, conversationId: string): string {
  return `room.${createHash("sha256")
    .update(`${formatBareJid(user)} ${conversationId}`)
    .digest("hex")
    .slice(0, 20)}`;
}

export function isRoomLocalpart(local: string): boolean {
  return ROOM.test(local);
}

export interface RoomSnapshot {
  readonly title: string;
  /** The other members' nicks (their handles). */
  readonly occupants: readonly string[];
  /** What was said, oldest first; `nick` is undefined for the user's own messages. */
  readonly history: readonly {
    readonly id: string;
    /** The room's XEP-0359 stanza-id (the Note id), what reactions and retractions in the room refer to. */
    readonly stanzaId: string;
    readonly nick?: string;
    readonly text: string;
    readonly published: string;
  }[];
}

/** What the bridge does for rooms. */
export interface RoomHandlers {
  joinRoom(user: BareJid, room: string): Promise<Result<RoomSnapshot, StanzaError>>;
  /** Acts on a chat of the user in the room; `stanzaId` is the room's id for it (the new Note's id). */
  roomChat(
    user: BareJid,
    room: string,
    chat: Chat,
  ): Promise<Result<{ readonly stanzaId?: string }, StanzaError>>;
}

/** Where a room's occupants (full JID -> nick) are kept, so that a restarted gateway still serves them. */
export interface OccupantStore {
  load(room: string): ReadonlyMap<string, string>;
  save(room: string, occupants: ReadonlyMap<string, string>): void;
}

export class Rooms {
  readonly #link: ComponentLink;
  readonly #newId: () => string;
  /** room localpart -> occupant full JID -> nick (a cache of the store). */
  readonly #occupants = new Map<string, Map<string, string>>();
  #store: OccupantStore | undefined;

  constructor(link: ComponentLink, newId: () => string) {
    this.#link = link;
    this.#newId = newId;
  }

  /** Keeps occupants in `store` from now on. */
  persistIn(store: OccupantStore): void {
    this.#store = store;
    this.#occupants.clear();
  }

  #of(room: string): Map<string, string> {
    let occupants = this.#occupants.get(room);
    if (!occupants) {
      occupants = new Map(this.#store?.load(room));
      this.#occupants.set(room, occupants);
    }
    return occupants;
  }

  #jid(room: string, nick?: string): string {
    return `${room}@${this.#link.domain}${nick === undefined ? "" : `/${nick}`}`;
  }

  joined(room: string): boolean {
    return this.#of(room).size > 0;
  }

  /** Invites the user to the room (XEP-0249), with a body for clients that do not show invitations. */
  invite(user: BareJid, room: string, reason: string): void {
    const jid = this.#jid(room);
    this.#link.send(
      xml(
        "message",
        { from: jid, to: formatBareJid(user), id: this.#newId() },
        xml("x", { xmlns: "jabber:x:conference", jid, reason }),
        xml("body", {}, `${reason} Join ${jid} to take part.`),
      ),
    );
  }

  /**
   * Shows a chat of the member `nick` to every joined resource of the room, with the room's stanza-id
   * (XEP-0359; the chat's id unless given); false if nobody has joined.
   */
  deliver(room: string, nick: string, chat: Chat, stanzaId = chat.id): boolean {
    const occupants = this.#of(room);
    if (occupants.size === 0) return false;
    for (const full of occupants.keys()) {
      const stanza = writeChatStanza(chat, this.#jid(room, nick), full, "groupchat");
      stanza.append(this.#stanzaId(room, stanzaId));
      this.#link.send(stanza);
    }
    return true;
  }

  /** The room's subject changed (the group's title): told to every joined resource. */
  subject(room: string, subject: string): void {
    for (const full of this.#of(room).keys()) this.#link.send(this.#subject(room, full, subject));
  }

  #subject(room: string, to: string, subject: string): Element {
    return xml(
      "message",
      { type: "groupchat", id: this.#newId(), from: this.#jid(room), to },
      xml("subject", {}, subject),
    );
  }

  /** A member came (`available`) or went: its presence to every joined resource. */
  member(room: string, nick: string, available: boolean): void {
    for (const full of this.#of(room).keys())
      this.#link.send(this.#memberPresence(room, nick, full, available));
  }

  #memberPresence(room: string, nick: string, to: string, available: boolean): Element {
    const item = available
      ? xml("item", { affiliation: "member", role: "participant" })
      : xml("item", { affiliation: "none", role: "none" });
    return xml(
      "presence",
      { from: this.#jid(room, nick), to, ...(available ? {} : { type: "unavailable" }) },
      xml("x", { xmlns: MUC_USER }, item),
    );
  }

  #stanzaId(room: string, id: string): Element {
    return xml("stanza-id", { xmlns: NS.sid, id, by: this.#jid(room) });
  }

  async handle(stanza: Element, user: BareJid, room: string, handlers: RoomHandlers): Promise<void> {
    const full = stanza.attrs.from ?? "";
    const nick = (stanza.attrs.to ?? "").split("/").slice(1).join("/");
    const reply = (e: StanzaError) => {
      const answer = errorReply(stanza, e);
      if (answer) this.#link.send(answer);
    };
    if (stanza.name === "presence") {
      if (stanza.attrs.type === "unavailable") return this.#leave(room, full);
      if (stanza.attrs.type) return; // subscriptions to a room are not a thing
      if (!nick) return reply(new StanzaError("malformed", "join with room@domain/nick", "bad-request"));
      // A joined resource's presence changes (away, back) are not new joins.
      if (this.#of(room).has(full) && !stanza.getChild("x", NS.muc)) return;
      const snapshot = await handlers.joinRoom(user, room);
      if (!snapshot.ok) return reply(snapshot.error);
      return this.#join(room, full, nick, snapshot.value);
    }
    if (stanza.name === "iq") {
      const query = stanza.getChildElements()[0];
      if (stanza.attrs.type === "get" && query?.is("query", NS.discoInfo) && !nick) {
        const info = discoInfo(
          { category: "conference", type: "text", name: "Fediverse group (via Sotto)" },
          ROOM_FEATURES,
        );
        return void this.#link.send(
          xml("iq", { type: "result", id: stanza.attrs.id, from: stanza.attrs.to, to: full }, info),
        );
      }
      return reply(new StanzaError("unsupported", "not supported by this room", "service-unavailable"));
    }
    if (nick)
      return reply(
        new StanzaError(
          "unsupported",
          "private messages in a room are not bridged",
          "feature-not-implemented",
        ),
      );
    const mine = this.#of(room).get(full);
    if (mine === undefined)
      return reply(new StanzaError("not_allowed", "join the room before writing to it", "not-acceptable"));
    const chat = readChatStanza(stanza, this.#newId, "groupchat");
    if (!chat.ok) return reply(chat.error);
    if (!chat.value) return;
    const done = await handlers.roomChat(user, room, chat.value);
    if (!done.ok) return reply(done.error);
    // A room reflects every message to its sender's resources.
    this.deliver(room, mine, chat.value, done.value.stanzaId);
  }

  #join(room: string, full: string, nick: string, snapshot: RoomSnapshot): void {
    const occupants = this.#of(room);
    occupants.set(full, nick);
    this.#store?.save(room, occupants);
    const item = (jid?: string) => xml("item", { affiliation: "member", role: "participant", jid });
    for (const other of snapshot.occupants) this.#link.send(this.#memberPresence(room, other, full, true));
    this.#link.send(
      xml(
        "presence",
        { from: this.#jid(room, nick), to: full },
        xml(
          "x",
          { xmlns: MUC_USER },
          item(full),
          xml("status", { code: "100" }),
          xml("status", { code: "110" }),
        ),
      ),
    );
    for (const h of snapshot.history) {
      this.#link.send(
        xml(
          "message",
          { type: "groupchat", id: h.id, from: this.#jid(room, h.nick ?? nick), to: full },
          xml("body", {}, h.text),
          xml("delay", { xmlns: "urn:xmpp:delay", stamp: h.published, from: this.#jid(room) }),
          this.#stanzaId(room, h.stanzaId),
        ),
      );
    }
    this.#link.send(this.#subject(room, full, snapshot.title));
  }

  #leave(room: string, full: string): void {
    const occupants = this.#of(room);
    const nick = occupants.get(full);
    if (nick === undefined) return;
    occupants.delete(full);
    this.#store?.save(room, occupants);
    this.#link.send(
      xml(
        "presence",
        { type: "unavailable", from: this.#jid(room, nick), to: full },
        xml(
          "x",
          { xmlns: MUC_USER },
          xml("item", { affiliation: "member", role: "none" }),
          xml("status", { code: "110" }),
        ),
      ),
    );
  }
}
