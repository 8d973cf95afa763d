// A device's fingerprint: SHA-256 of its raw MLS signature public key (the key in its leaf node and
// KeyPackages), so anyone holding the key can recompute it with standard tools.
import { createHash } from "node:crypto";
import { digitGroups } from "./digits.js";

export interface DeviceFingerprint {
  /** Lowercase hex of SHA-256(signature public key). */
  readonly hex: string;
  /** The same digest in 4-character hex groups, for reading aloud. */
  readonly hexGroups: readonly string[];
  /** 30 digits in 6 groups of 5, for comparing at a glance. */
  readonly digitGroups: readonly string[];
}

export function deviceFingerprint(signaturePublicKey: Uint8Array): DeviceFingerprint {
  const digest = createHash("sha256").update(signaturePublicKey).digest();
  const hex = digest.toString("hex");
  return {
    hex,
    hexGroups: hex.match(/.{4}/g) ?? [],
    digitGroups: digitGroups(digest, 6),
  };
}
