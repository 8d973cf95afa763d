// XMPP stanza errors (RFC 6120 §8.3) as replies to what the gateway will not or cannot bridge.
import type { StanzaError } from "../errors.js";
import { NS } from "./namespaces.js";
import { type Element, xml } from "./xml.js";

const MODIFY = new Set(["bad-request", "not-acceptable", "jid-malformed"]);

/** The error reply to `stanza` (same kind and id, addresses swapped), or undefined if it must get none. */
export function errorReply(
  stanza: Element,
  error: Pick<StanzaError, "condition" | "message">,
): Element | undefined {
  const { from, to, id, type } = stanza.attrs;
  if (type === "error" || !from || !to) return undefined; // never answer an error with an error
  if (stanza.name === "iq" && type !== "get" && type !== "set") return undefined;
  return xml(
    stanza.name,
    { type: "error", from: to, to: from, id },
    xml(
      "error",
      { type: MODIFY.has(error.condition) ? "modify" : "cancel" },
      xml(error.condition, { xmlns: NS.stanzas }),
      xml("text", { xmlns: NS.stanzas, "xml:lang": "en" }, error.message),
    ),
  );
}
