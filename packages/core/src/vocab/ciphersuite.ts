// The `ciphersuite` property: a suite's string name (as Sotto, Emissary and Bonfire write it), or Bonfire's
// object form `{identifier, name}`, or a bare IANA code point.
import { type CiphersuiteName, ciphersuites } from "ts-mls";
import { isJsonObject, normalizeTerms } from "./json.js";

export type { CiphersuiteName };

const byId: ReadonlyMap<number, CiphersuiteName> = new Map(
  Object.entries(ciphersuites).map(([name, id]) => [id, name as CiphersuiteName]),
);

export function isCiphersuiteName(name: string): name is CiphersuiteName {
  return Object.hasOwn(ciphersuites, name);
}

export function ciphersuiteNameFromId(id: number): CiphersuiteName | undefined {
  return byId.get(id);
}

export function ciphersuiteId(name: CiphersuiteName): number {
  return ciphersuites[name];
}

/** Reads any accepted form of `ciphersuite`; undefined when it names no suite this library knows. */
export function readCiphersuite(value: unknown): CiphersuiteName | undefined {
  if (typeof value === "string") {
    if (isCiphersuiteName(value)) return value;
    const code = /^(0x[0-9a-f]{1,4}|\d{1,5})$/i.test(value) ? Number(value) : Number.NaN;
    return Number.isNaN(code) ? undefined : ciphersuiteNameFromId(code);
  }
  if (typeof value === "number") return ciphersuiteNameFromId(value);
  if (isJsonObject(value)) {
    const object = normalizeTerms(value);
    return readCiphersuite(object.name) ?? readCiphersuite(object.identifier) ?? readCiphersuite(object.id);
  }
  return undefined;
}
