// Service discovery (XEP-0030) and entity capabilities (XEP-0115) of the component and of each actor JID.
import { createHash } from "node:crypto";
import { NS } from "./namespaces.js";
import { type Element, xml } from "./xml.js";

export interface Identity {
  readonly category: string;
  readonly type: string;
  readonly name: string;
}

/** What a bridged conversation supports, advertised on every actor JID (each is tested end to end). */
export const CONTACT_FEATURES: readonly string[] = [
  NS.caps,
  NS.discoInfo,
  NS.receipts,
  NS.markers,
  NS.oob,
  NS.correction,
  NS.retraction,
  NS.retraction0,
  NS.reactions,
  NS.ping,
].toSorted();

/** The component itself also answers disco#items and version queries. */
export const SERVICE_FEATURES: readonly string[] = [
  ...CONTACT_FEATURES,
  NS.discoItems,
  NS.version,
].toSorted();

export function discoInfo(identity: Identity, features: readonly string[], node?: string): Element {
  return xml(
    "query",
    { xmlns: NS.discoInfo, node },
    xml("identity", { category: identity.category, type: identity.type, name: identity.name }),
    ...features.map((f) => xml("feature", { var: f })),
  );
}

/** XEP-0115 verification string hash (SHA-1, no extended forms). */
export function capsVer(identity: Identity, features: readonly string[]): string {
  const s = `${identity.category}/${identity.type}//${identity.name}<${[...features].toSorted().join("<")}<`;
  return createHash("sha1").update(s, "utf8").digest("base64");
}

export const CAPS_NODE = "https://github.com/sotto/sotto-xmpp";

/**
 * The disco#info answer for `node`: the entity's own (no node) or its caps `node#ver` (XEP-0115 §6.2, how
 * clients resolve what a presence's `<c/>` stands for); undefined for any other node.
 */
export function discoInfoFor(
  identity: Identity,
  features: readonly string[],
  node?: string,
): Element | undefined {
  if (node !== undefined && node !== `${CAPS_NODE}#${capsVer(identity, features)}`) return undefined;
  return discoInfo(identity, features, node);
}

export function capsElement(identity: Identity, features: readonly string[]): Element {
  return xml("c", {
    xmlns: NS.caps,
    hash: "sha-1",
    node: CAPS_NODE,
    ver: capsVer(identity, features),
  });
}
