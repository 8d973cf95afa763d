// Application-data ids (spec §Application data): unique URIs that are not HTTPS URLs, normally `urn:uuid:`;
// Emissary and the spec's examples write `uri:uuid:`, which is accepted as is.
import { randomUUID } from "node:crypto";

export function isWebUrl(id: string): boolean {
  return /^https?:/i.test(id);
}

/** A fresh id for outgoing application data. */
export function newApplicationId(): string {
  return `urn:uuid:${randomUUID()}`;
}

/** The comparison key of an id: `uri:uuid:` and `urn:uuid:` spellings, and the UUID's case, are one id. */
export function canonicalApplicationId(id: string): string {
  const match = /^ur[in]:uuid:([0-9a-f-]{36})$/i.exec(id);
  return match?.[1] === undefined ? id : `urn:uuid:${match[1].toLowerCase()}`;
}
