// <message/> stanzas <-> Chat, pure. Reads what XMPP clients send (XEP-0308 corrections, XEP-0424
// retractions in their current and fastened forms, XEP-0444 reactions, XEP-0184 receipts, XEP-0333 markers)
// and writes the same, with fallback bodies where the XEPs ask for them.
import { err, ok, type Result } from "@sotto/core";
import type { Chat, Link } from "../chat.js";
import { StanzaError } from "../errors.js";
import { formatSize } from "../media.js";
import { NS } from "./namespaces.js";
import { type Element, xml } from "./xml.js";

const MAX_BODY = 64 * 1024;
const MAX_REACTIONS = 32;
const MAX_LINKS = 16;

/** The message id other stanzas refer to: the XEP-0359 origin-id when present, else the `id` attribute. */
function messageId(stanza: Element): string | undefined {
  return stanza.getChild("origin-id", NS.sid)?.attrs.id ?? stanza.attrs.id ?? undefined;
}

function refId(el: Element | undefined): string | undefined {
  const id = el?.attrs.id;
  return id && id.length <= 256 ? id : undefined;
}

/**
 * Reads a chat <message/>. `ok(undefined)` = nothing to bridge (chat states, errors, headlines); an error
 * carries the XMPP condition to answer with.
 */
export function readChatStanza(
  stanza: Element,
  newId: () => string,
  kind: "chat" | "groupchat" = "chat",
): Result<Chat | undefined, StanzaError> {
  if (!stanza.is("message")) return err(new StanzaError("malformed", "not a message", "bad-request"));
  const type = stanza.attrs.type ?? "normal";
  if (type === "error" || type === "headline") return ok(undefined);
  if ((type === "groupchat") !== (kind === "groupchat")) {
    if (kind === "groupchat") {
      return err(
        new StanzaError(
          "unsupported",
          "private messages in a room are not bridged",
          "feature-not-implemented",
        ),
      );
    }
    return err(
      new StanzaError(
        "unsupported",
        "a Fediverse contact takes chat messages; groups are rooms",
        "feature-not-implemented",
      ),
    );
  }
  if (type !== "chat" && type !== "normal" && type !== "groupchat") {
    return err(new StanzaError("malformed", "unknown message type", "bad-request"));
  }
  const id = messageId(stanza) ?? newId();
  const body = stanza.getChildText("body");
  if (body !== null && body.length > MAX_BODY) {
    return err(new StanzaError("malformed", `body longer than ${MAX_BODY} characters`, "bad-request"));
  }

  const retract = stanza.getChild("retract", NS.retraction);
  const fastened = stanza.getChild("apply-to", NS.fasten);
  if (retract || fastened?.getChild("retract", NS.retraction0)) {
    const retracts = refId(retract ?? fastened);
    if (!retracts) return err(new StanzaError("malformed", "retraction without a valid id", "bad-request"));
    return ok({ type: "retraction", id, retracts });
  }

  const reactions = stanza.getChild("reactions", NS.reactions);
  if (reactions) {
    const to = refId(reactions);
    const emojis = reactions.getChildren("reaction").map((r) => r.getText().trim());
    if (!to || emojis.length > MAX_REACTIONS || emojis.some((e) => !e || e.length > 64)) {
      return err(new StanzaError("malformed", "reactions without a valid id or emoji", "bad-request"));
    }
    return ok({ type: "reactions", id, to, emojis: [...new Set(emojis)] });
  }

  const replace = stanza.getChild("replace", NS.correction);
  if (replace) {
    const replaces = refId(replace);
    if (!replaces || body === null) {
      return err(new StanzaError("malformed", "correction without an id or a body", "bad-request"));
    }
    return ok({ type: "correction", id, replaces, text: body });
  }

  const urls = stanza
    .getChildren("x", NS.oob)
    .map((x) => x.getChildText("url")?.trim() ?? "")
    .filter((url) => url !== "");
  if (urls.length > MAX_LINKS || urls.some((url) => url.length > 2048)) {
    return err(
      new StanzaError("malformed", `at most ${MAX_LINKS} file links of up to 2048 characters`, "bad-request"),
    );
  }
  if (body !== null || urls.length > 0) {
    const alias = refId(stanza);
    // The body repeats the links for clients without XEP-0066: they are the files, not text.
    const text = (body ?? "")
      .split("\n")
      .filter((line) => !urls.includes(line.trim()))
      .join("\n")
      .trim();
    return ok({
      type: "message",
      id,
      text: urls.length > 0 ? text : (body ?? ""),
      ...(urls.length > 0 ? { links: urls.map((url): Link => ({ url })) } : {}),
      ...(alias && alias !== id ? { alias } : {}),
      ...(stanza.getChild("request", NS.receipts) ? { receipt: true as const } : {}),
    });
  }

  const receipt = stanza.getChild("received", NS.receipts);
  if (receipt) {
    const of = refId(receipt);
    return of
      ? ok({ type: "receipt", id, of, kind: "received" })
      : err(new StanzaError("malformed", "receipt without id", "bad-request"));
  }
  const marker =
    stanza.getChild("displayed", NS.markers) ??
    stanza.getChild("acknowledged", NS.markers) ??
    stanza.getChild("received", NS.markers);
  if (marker) {
    const of = refId(marker);
    if (!of) return err(new StanzaError("malformed", "chat marker without id", "bad-request"));
    return ok({ type: "receipt", id, of, kind: marker.name === "received" ? "received" : "displayed" });
  }
  return ok(undefined); // chat states and other payload-free messages
}

/** A file's description for XEP-0066 `<desc>`: its name, media type and size. */
function describe(l: Link): Element | undefined {
  const facts = [l.mediaType, l.size === undefined ? undefined : formatSize(l.size)]
    .filter(Boolean)
    .join(", ");
  const text = [l.name, facts && `(${facts})`].filter(Boolean).join(" ");
  return text ? xml("desc", {}, text) : undefined;
}

/** Writes a Chat as a <message type="chat"/> (or "groupchat", in a room) from `from` to `to`. */
export function writeChatStanza(
  chat: Chat,
  from: string,
  to: string,
  type: "chat" | "groupchat" = "chat",
): Element {
  const attrs = { type, id: chat.id, from, to };
  const store = xml("store", { xmlns: NS.hints });
  switch (chat.type) {
    case "message":
      return xml(
        "message",
        attrs,
        xml(
          "body",
          {},
          [chat.text, ...(chat.links ?? []).map((l) => l.url)].filter((t) => t !== "").join("\n"),
        ),
        ...(chat.links ?? []).map((l) => xml("x", { xmlns: NS.oob }, xml("url", {}, l.url), describe(l))),
        xml("origin-id", { xmlns: NS.sid, id: chat.id }),
        xml("markable", { xmlns: NS.markers }),
        xml("request", { xmlns: NS.receipts }),
      );
    case "correction":
      return xml(
        "message",
        attrs,
        xml("body", {}, chat.text),
        xml("replace", { xmlns: NS.correction, id: chat.replaces }),
        xml("origin-id", { xmlns: NS.sid, id: chat.id }),
      );
    case "retraction":
      // Both forms, as XEP-0424's transition advice allows: clients that know only :0 read the fastened one.
      return xml(
        "message",
        attrs,
        xml("retract", { xmlns: NS.retraction, id: chat.retracts }),
        xml("apply-to", { xmlns: NS.fasten, id: chat.retracts }, xml("retract", { xmlns: NS.retraction0 })),
        xml("fallback", { xmlns: NS.fallback, for: NS.retraction }),
        xml("fallback", { xmlns: NS.fallback, for: NS.retraction0 }),
        xml(
          "body",
          {},
          "This person attempted to retract a previous message, but it's unsupported by your client.",
        ),
        store,
      );
    case "reactions":
      return xml(
        "message",
        attrs,
        xml(
          "reactions",
          { xmlns: NS.reactions, id: chat.to },
          ...chat.emojis.map((e) => xml("reaction", {}, e)),
        ),
        store,
      );
    case "receipt":
      return chat.kind === "received"
        ? xml("message", attrs, xml("received", { xmlns: NS.receipts, id: chat.of }))
        : xml("message", attrs, xml("displayed", { xmlns: NS.markers, id: chat.of }), store);
  }
}
