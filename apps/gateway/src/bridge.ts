// The bridge: XMPP chats become operations of the user's puppet on the Fediverse, changes its puppet sees
// become XMPP stanzas from the peer's JID. It keeps the id pairs in GatewayState and tells each XMPP user once
// per conversation that encryption ends at the gateway.
import { ok, type Result } from "@sotto/core";
import { type BareJid, formatBareJid } from "./addressing.js";
import type { Chat } from "./chat.js";
import { type FediverseError, StanzaError } from "./errors.js";
import type { Delivery, FediverseActor, FediverseSide, Received } from "./fediverse.js";
import type { Log } from "./log.js";
import { chatForChange, operationsForChat } from "./mapping.js";
import type { GatewayState } from "./state.js";
import type { XmppSide, XmppSideHandlers } from "./xmpp/xmpp-side.js";

export const ENCRYPTION_NOTICE =
  "ℹ️ This conversation is bridged to the Fediverse by a gateway. Messages are end-to-end encrypted (MLS) " +
  "between the gateway and the Fediverse, but not between you and the gateway: the gateway can read them.";

export const GROUP_NOTICE =
  "⚠️ You were added to a Fediverse group conversation. Group conversations are not bridged to XMPP yet, " +
  "so its messages are not shown here; messages sent to you directly are.";

export interface BridgeOptions {
  readonly xmpp: XmppSide;
  readonly fediverse: FediverseSide;
  readonly state: GatewayState;
  readonly log: Log;
  readonly newId: () => string;
}

function conversationKey(user: BareJid, handle: string): string {
  return `${formatBareJid(user)} ${handle.toLowerCase()}`;
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
    const { state, fediverse } = this.#o;
    const conversation = conversationKey(user, actor.value.handle);
    const puppet = await fediverse.ensurePuppet(user);
    if (!puppet.ok) return { ok: false, error: toStanzaError(puppet.error) };
    const operations = operationsForChat(chat, {
      byXmppId: (id) => state.byXmppId(conversation, id),
      ownReactions: (messageId) => fediverse.ownReactions(user, messageId),
    });
    if (!operations.ok) return operations;
    if (operations.value.length > 0) this.#noticeOnce(user, actor.value.handle);
    for (const operation of operations.value) {
      const done = await fediverse.perform(user, actor.value, operation);
      if (!done.ok) return { ok: false, error: toStanzaError(done.error) };
      if (operation.op === "send" && done.value.messageId) {
        state.remember(conversation, { xmppId: chat.id, messageId: done.value.messageId, author: "xmpp" });
      }
    }
    this.#o.log("debug", "bridge.to_fediverse", { kind: chat.type, operations: operations.value.length });
    return ok(undefined);
  }

  /**
   * One change seen by a puppet. Bad or unknown data is logged and skipped; nothing throws. While the XMPP
   * link is down the change waits on the Fediverse side (`retry`), so a stop then loses nothing.
   */
  async receive(r: Received): Promise<Delivery> {
    const { state, log } = this.#o;
    if (!this.#o.xmpp.link.online) return "retry";
    const handle = r.peer.handle.toLowerCase();
    state.setActor({ ...r.peer, handle });
    if (r.memberCount > 2) {
      if (state.firstTime(`${formatBareJid(r.user)} group ${r.conversationId}`)) {
        this.#o.xmpp.notice(r.user, handle, GROUP_NOTICE);
      }
      log("info", "bridge.group_skipped", { conversation: r.conversationId, members: r.memberCount });
      return "done";
    }
    const conversation = conversationKey(r.user, handle);
    const incoming = chatForChange(r.change, { byMessageId: (id) => state.byMessageId(conversation, id) });
    if (!incoming.ok) {
      log("warn", "bridge.skipped", {
        code: incoming.error.code,
        kind: r.change.kind,
        conversation: r.conversationId,
      });
      return "done";
    }
    const { chat, remember } = incoming.value;
    if (remember) state.remember(conversation, remember);
    this.#noticeOnce(r.user, handle);
    this.#o.xmpp.deliver(r.user, handle, chat);
    log("debug", "bridge.to_xmpp", { kind: chat.type });
    return "done";
  }

  #noticeOnce(user: BareJid, handle: string): void {
    if (this.#o.state.firstTime(conversationKey(user, handle)))
      this.#o.xmpp.notice(user, handle, ENCRYPTION_NOTICE);
  }
}
