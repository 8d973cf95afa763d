// The safety number of a pair of actors (spec §Security considerations: key substitution). As in Signal's
// NumericFingerprintGenerator, each side's 30 digits come from an iterated hash of its identity (here: the
// actor id and the signature keys of all its devices, so any device change shows), and the two halves are
// sorted so both people see the same 60 digits.
import { createHash } from "node:crypto";
import { SottoError } from "../errors.js";
import { digitGroups } from "./digits.js";

export interface SafetyParty {
  readonly actor: string;
  /** The raw signature public keys of every device of the actor in the conversation. */
  readonly signatureKeys: readonly Uint8Array[];
}

export interface SafetyNumber {
  /** 60 digits in 12 groups of 5, identical on both sides. */
  readonly groups: readonly string[];
  /** The groups joined by spaces. */
  readonly text: string;
}

export class FingerprintError extends SottoError<"no_device_keys"> {}

const VERSION = new Uint8Array([0, 1]);
// Slows a search for keys whose digits collide with a victim's (Signal uses 5200 rounds).
const ITERATIONS = 5200;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, bytes.length);
  return Buffer.concat([prefix, bytes]);
}

function partyDigits(party: SafetyParty): readonly string[] {
  if (party.signatureKeys.length === 0) {
    throw new FingerprintError("no_device_keys", `${party.actor} has no device keys to compare`);
  }
  const keys = Buffer.concat([...party.signatureKeys].sort(compareBytes).map(lengthPrefixed));
  const identity = lengthPrefixed(new TextEncoder().encode(party.actor));
  let digest = createHash("sha256").update(VERSION).update(keys).update(identity).digest();
  for (let round = 0; round < ITERATIONS; round++) {
    digest = createHash("sha256").update(digest).update(keys).digest();
  }
  return digitGroups(digest, 6);
}

/** The same number whichever side computes it; changes when any device key of either actor changes. */
export function safetyNumber(a: SafetyParty, b: SafetyParty): SafetyNumber {
  const halves = [partyDigits(a), partyDigits(b)].sort((x, y) => (x.join("") < y.join("") ? -1 : 1));
  const groups = halves.flat();
  return { groups, text: groups.join(" ") };
}
