// Names on both sides of the bridge, each a pure and reversible mapping.
//
// Fediverse actor -> XMPP: the handle `user@host` (lowercased: Prosody case-folds JID localparts) is
// XEP-0106-escaped into a localpart of the component domain: `bob@social.example` -> `bob\40social.example@fedi.example`.
//
// XMPP user -> Fediverse: the actor's username on the gateway's domain. A JID of the gateway's default XMPP
// domain whose localpart uses only `[a-z0-9._-]` keeps it (`alice@example.org` -> `alice`). Any other bare JID
// (another allowed domain, other characters) becomes `___` + hex of its UTF-8 bytes, which every Fediverse
// server accepts (`[a-z0-9_]`) and which maps back exactly. Simple names never start with `___`.
import { err, ok, type Result } from "@sotto/core";
import { AddressError } from "./errors.js";
import { escapeLocalpart, unescapeLocalpart } from "./jid-escape.js";

const SIMPLE_LOCALPART = /^[a-z0-9._-]+$/;
const ESCAPED_PREFIX = "___";
const HANDLE = /^[^@\s/]+@[^@\s/]+$/;

/** A bare JID split in two; both parts lowercased as XMPP servers compare them. */
export interface BareJid {
  readonly local: string;
  readonly domain: string;
}

export function parseBareJid(address: string): Result<BareJid, AddressError> {
  const bare = address.split("/")[0] ?? "";
  const at = bare.lastIndexOf("@");
  const local = at > 0 ? bare.slice(0, at) : "";
  const domain = bare.slice(at + 1);
  if (!local || !domain || /[\s@]/.test(domain) || /[\s"&'/:<>@]/.test(local)) {
    return err(new AddressError("bad_jid", `not a user JID: ${JSON.stringify(address.slice(0, 200))}`));
  }
  return ok({ local: local.toLowerCase(), domain: domain.toLowerCase() });
}

export function formatBareJid(j: BareJid): string {
  return `${j.local}@${j.domain}`;
}

/** The JID under which a Fediverse actor (by handle `user@host`) appears on the component domain. */
export function jidForHandle(handle: string, componentDomain: string): string {
  return `${escapeLocalpart(handle.toLowerCase())}@${componentDomain}`;
}

/** The Fediverse handle `user@host` a component JID stands for. */
export function handleForJid(address: string, componentDomain: string): Result<string, AddressError> {
  const parsed = parseBareJid(address);
  if (!parsed.ok) return parsed;
  if (parsed.value.domain !== componentDomain.toLowerCase()) {
    return err(new AddressError("not_component", `${parsed.value.domain} is not the gateway's domain`));
  }
  const handle = unescapeLocalpart(parsed.value.local);
  if (!HANDLE.test(handle)) {
    return err(new AddressError("bad_handle", `${JSON.stringify(handle.slice(0, 200))} is not user@host`));
  }
  return ok(handle);
}

/** The username of the gateway actor that stands for an XMPP user. */
export function usernameForJid(j: BareJid, defaultDomain: string): string {
  if (
    j.domain === defaultDomain.toLowerCase() &&
    SIMPLE_LOCALPART.test(j.local) &&
    !j.local.startsWith(ESCAPED_PREFIX)
  ) {
    return j.local;
  }
  return ESCAPED_PREFIX + Buffer.from(formatBareJid(j), "utf8").toString("hex");
}

/** The XMPP user a gateway username stands for. */
export function jidForUsername(username: string, defaultDomain: string): Result<BareJid, AddressError> {
  const name = username.toLowerCase();
  if (name.startsWith(ESCAPED_PREFIX)) {
    const hex = name.slice(ESCAPED_PREFIX.length);
    if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return err(new AddressError("bad_username", "bad escaped username"));
    return parseBareJid(Buffer.from(hex, "hex").toString("utf8"));
  }
  if (!SIMPLE_LOCALPART.test(name)) return err(new AddressError("bad_username", "bad username"));
  return ok({ local: name, domain: defaultDomain.toLowerCase() });
}
