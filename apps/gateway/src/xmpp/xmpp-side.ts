// The XMPP face of the gateway: every stanza Prosody routes to the component domain lands here. Checks the
// sender (allow-listed domain, a user JID), the addressee (the service or an actor JID), then answers disco,
// ping and version itself, handles presence subscriptions like a contact would, hands chat messages to the
// bridge, and stanzas for rooms (Fediverse groups) to `Rooms`. Anything it will not bridge gets an XMPP error,
// never silence.
import { err, ok, type Result } from "@sotto/core";
import { type BareJid, formatBareJid, handleForJid, jidForHandle, parseBareJid } from "../addressing.js";
import type { Chat } from "../chat.js";
import { StanzaError } from "../errors.js";
import type { Log } from "../log.js";
import { readChatStanza, writeChatStanza } from "./chat-stanza.js";
import { ComponentLink } from "./component-link.js";
import { CONTACT_FEATURES, capsElement, discoInfoFor, type Identity, SERVICE_FEATURES } from "./disco.js";
import { errorReply } from "./errors.js";
import { isRoomLocalpart, type RoomHandlers, Rooms } from "./muc.js";
import { NS } from "./namespaces.js";
import { type Element, xml } from "./xml.js";

/** What the bridge does for the XMPP side. Errors are answered to the XMPP user as stanza errors. */
export interface XmppSideHandlers extends RoomHandlers {
  /** A chat from an XMPP user to the Fediverse actor `handle`. */
  chat(user: BareJid, handle: string, chat: Chat): Promise<Result<void, StanzaError>>;
  /** Whether `handle` is a reachable Fediverse actor (presence subscription, probes); its display name. */
  contact(user: BareJid, handle: string): Promise<Result<{ readonly name?: string }, StanzaError>>;
}

export interface XmppSideOptions {
  readonly service: string;
  readonly domain: string;
  readonly secret: string;
  /** XMPP domains whose users may use the gateway. */
  readonly allowedDomains: readonly string[];
  readonly log: Log;
  readonly newId: () => string;
}

const SERVICE: Identity = { category: "gateway", type: "activitypub", name: "Sotto Fediverse gateway" };
const CONTACT: Identity = { category: "client", type: "pc", name: "Fediverse (via Sotto)" };

export class XmppSide {
  readonly link: ComponentLink;
  /** Rooms for Fediverse group conversations. */
  readonly rooms: Rooms;
  readonly #allowed: ReadonlySet<string>;
  readonly #log: Log;
  readonly #newId: () => string;
  readonly #queues = new Map<string, Promise<void>>();
  #handlers: XmppSideHandlers | undefined;

  constructor(options: XmppSideOptions) {
    this.#allowed = new Set(options.allowedDomains.map((d) => d.toLowerCase()));
    this.#log = options.log;
    this.#newId = options.newId;
    this.link = new ComponentLink(options, (stanza) => this.#receive(stanza));
    this.rooms = new Rooms(this.link, options.newId);
  }

  get domain(): string {
    return this.link.domain;
  }

  async start(handlers: XmppSideHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.link.start();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }

  /** Shows a chat from the Fediverse actor `handle` to the XMPP user. */
  deliver(user: BareJid, handle: string, chat: Chat): boolean {
    return this.link.send(writeChatStanza(chat, jidForHandle(handle, this.domain), formatBareJid(user)));
  }

  /** A plain notice from the actor's JID (e.g. that encryption ends at the gateway). */
  notice(user: BareJid, handle: string, text: string): boolean {
    return this.link.send(
      xml(
        "message",
        { type: "chat", id: this.#newId(), from: jidForHandle(handle, this.domain), to: formatBareJid(user) },
        xml("body", {}, text),
        xml("store", { xmlns: NS.hints }),
      ),
    );
  }

  #reply(stanza: Element, error: StanzaError): void {
    this.#log("info", "xmpp.rejected", { kind: stanza.name, code: error.code, condition: error.condition });
    const reply = errorReply(stanza, error);
    if (reply) this.link.send(reply);
  }

  /** Stanzas of one sender to one addressee are handled in arrival order (a correction after its message). */
  #receive(stanza: Element): void {
    const key = `${stanza.attrs.from?.split("/")[0]} ${stanza.attrs.to?.split("/")[0]}`;
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#handle(stanza))
      .catch((e: unknown) => {
        this.#log("error", "xmpp.handler_failed", { kind: stanza.name, error: (e as Error).message });
        this.#reply(stanza, new StanzaError("unsupported", "internal gateway error", "service-unavailable"));
      })
      .finally(() => {
        if (this.#queues.get(key) === next) this.#queues.delete(key);
      });
    this.#queues.set(key, next);
  }

  async #handle(stanza: Element): Promise<void> {
    if (stanza.attrs.type === "error") {
      this.#log("info", "xmpp.error_stanza", { kind: stanza.name });
      return;
    }
    const sender = this.#sender(stanza);
    if (!sender.ok) return this.#reply(stanza, sender.error);
    const user = sender.value;
    const to = (stanza.attrs.to ?? "").toLowerCase();
    if (to === this.domain || to.startsWith(`${this.domain}/`)) return this.#toService(stanza, user);
    const local = to.slice(0, to.indexOf("@"));
    if (isRoomLocalpart(local) && to.split("/")[0] === `${local}@${this.domain}` && this.#handlers) {
      return this.rooms.handle(stanza, user, local, this.#handlers);
    }
    const handle = handleForJid(to, this.domain);
    if (!handle.ok) {
      return this.#reply(
        stanza,
        new StanzaError("unknown_recipient", handle.error.message, "item-not-found"),
      );
    }
    if (stanza.name === "message") return this.#message(stanza, user, handle.value);
    if (stanza.name === "presence") return this.#presence(stanza, user, handle.value);
    if (stanza.name === "iq") return this.#contactIq(stanza);
  }

  #sender(stanza: Element): Result<BareJid, StanzaError> {
    const from = parseBareJid(stanza.attrs.from ?? "");
    if (!from.ok) return err(new StanzaError("malformed", "the sender is not a user JID", "not-allowed"));
    if (!this.#allowed.has(from.value.domain)) {
      return err(
        new StanzaError(
          "not_allowed",
          `users of ${from.value.domain} may not use this gateway`,
          "not-allowed",
        ),
      );
    }
    return from;
  }

  async #message(stanza: Element, user: BareJid, handle: string): Promise<void> {
    const chat = readChatStanza(stanza, this.#newId);
    if (!chat.ok) return this.#reply(stanza, chat.error);
    if (!chat.value || !this.#handlers) return;
    const done = await this.#handlers.chat(user, handle, chat.value);
    if (!done.ok) this.#reply(stanza, done.error);
  }

  async #presence(stanza: Element, user: BareJid, handle: string): Promise<void> {
    const from = jidForHandle(handle, this.domain);
    const to = formatBareJid(user);
    const type = stanza.attrs.type;
    if (stanza.getChild("x", NS.muc)) {
      return this.#reply(
        stanza,
        new StanzaError(
          "unsupported",
          "a Fediverse contact is not a room: groups you are in are offered as rooms (an invitation)",
          "feature-not-implemented",
        ),
      );
    }
    if (type === "subscribe" || type === "probe") {
      const contact = this.#handlers ? await this.#handlers.contact(user, handle) : ok<{ name?: string }>({});
      if (!contact.ok) {
        if (type === "subscribe") this.link.send(xml("presence", { type: "unsubscribed", from, to }));
        return this.#reply(stanza, contact.error);
      }
      if (type === "subscribe") this.link.send(xml("presence", { type: "subscribed", from, to }));
      const nick = contact.value.name ? xml("nick", { xmlns: NS.nick }, contact.value.name) : undefined;
      this.link.send(xml("presence", { from, to }, capsElement(CONTACT, CONTACT_FEATURES), nick));
    } else if (type === "unsubscribe") {
      this.link.send(xml("presence", { type: "unsubscribed", from, to }));
      this.link.send(xml("presence", { type: "unavailable", from, to }));
    }
    // available/unavailable/subscribed/unsubscribed from the user need no answer
  }

  /** An iq to an actor JID: disco#info (its own, or its caps node's) and ping; nothing else. */
  #contactIq(stanza: Element): void {
    const query = stanza.getChildElements()[0];
    const get = stanza.attrs.type === "get";
    if (get && query?.is("query", NS.discoInfo)) {
      this.#discoInfo(stanza, discoInfoFor(CONTACT, CONTACT_FEATURES, query.attrs.node));
    } else if (get && query?.is("ping", NS.ping)) {
      this.#result(stanza);
    } else {
      this.#reply(
        stanza,
        new StanzaError("unsupported", "not supported by a bridged contact", "service-unavailable"),
      );
    }
  }

  #discoInfo(stanza: Element, info: Element | undefined): void {
    if (info) this.#result(stanza, info);
    else this.#reply(stanza, new StanzaError("unsupported", "no such disco node", "item-not-found"));
  }

  #serviceIq(stanza: Element): Element | undefined {
    const query = stanza.getChildElements()[0];
    if (stanza.attrs.type !== "get" || !query) return undefined;
    if (query.is("query", NS.discoItems)) return xml("query", { xmlns: NS.discoItems });
    if (query.is("ping", NS.ping)) return xml("ping", { xmlns: NS.ping });
    if (query.is("query", NS.version)) {
      return xml("query", { xmlns: NS.version }, xml("name", {}, "sotto-xmpp"), xml("version", {}, "0.1.0"));
    }
    return undefined;
  }

  /** Stanzas to the component domain itself: queries, a subscription to the service; messages are refused. */
  #toService(stanza: Element, user: BareJid): void {
    const to = formatBareJid(user);
    if (stanza.name === "iq") {
      const query = stanza.getChildElements()[0];
      const answer = this.#serviceIq(stanza);
      if (stanza.attrs.type === "get" && query?.is("query", NS.discoInfo)) {
        this.#discoInfo(stanza, discoInfoFor(SERVICE, SERVICE_FEATURES, query.attrs.node));
      } else if (answer) this.#result(stanza, answer.is("ping") ? undefined : answer);
      else this.#reply(stanza, new StanzaError("unsupported", "unknown query", "service-unavailable"));
    } else if (stanza.name === "presence") {
      if (stanza.attrs.type === "subscribe") {
        this.link.send(xml("presence", { type: "subscribed", from: this.domain, to }));
      }
      if (stanza.attrs.type === "subscribe" || stanza.attrs.type === "probe") {
        this.link.send(xml("presence", { from: this.domain, to }, capsElement(SERVICE, SERVICE_FEATURES)));
      }
    } else {
      this.#reply(
        stanza,
        new StanzaError(
          "unknown_recipient",
          `write to a Fediverse account as user\\40host@${this.domain} (XEP-0106 escaping of user@host)`,
          "service-unavailable",
        ),
      );
    }
  }

  #result(stanza: Element, payload?: Element): void {
    this.link.send(
      xml(
        "iq",
        { type: "result", id: stanza.attrs.id, from: stanza.attrs.to, to: stanza.attrs.from },
        payload,
      ),
    );
  }
}
