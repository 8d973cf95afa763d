// KeyPackage endorsement (multi-device, spec repo issue #65): an already trusted device of the same actor signs
// a new device's KeyPackage, carried beside it as `mlsSignature` / `mlsSignerKeyId` (the shape Bonfire's client
// publishes and reads). A peer who verified the actor's devices accepts a new device that one of them endorsed.
import { createHash } from "node:crypto";
import { bytesEqual } from "./codec.js";
import type { DeviceIdentity } from "./identity.js";
import { DEFAULT_SUITE, suiteImpl } from "./suite.js";

/** What travels beside a KeyPackage: base64 signature, and which key made it. */
export interface Endorsement {
  /** Base64 Ed25519 signature. */
  readonly mlsSignature: string;
  /** Lowercase hex SHA-256 of the signer's MLS signature key (its device fingerprint, without spaces). */
  readonly mlsSignerKeyId: string;
}

/**
 * The signed bytes: the UTF-8 of the KeyPackage's base64 `content`, as Bonfire signs it. Not an MLS
 * SignContent (those begin with a length-prefixed "MLS 1.0 " label, never a base64 character), so an
 * endorsement can never pass for an MLS signature or the reverse.
 */
function payloadOf(keyPackage: Uint8Array): Uint8Array {
  return new TextEncoder().encode(Buffer.from(keyPackage).toString("base64"));
}

export function signerKeyId(signaturePublicKey: Uint8Array): string {
  return createHash("sha256").update(signaturePublicKey).digest("hex");
}

/** `signer`'s endorsement of a raw KeyPackage (its own, or a new device's it approves). */
export async function endorseKeyPackage(
  signer: DeviceIdentity,
  keyPackage: Uint8Array,
): Promise<Endorsement> {
  const signature = await (await suiteImpl(DEFAULT_SUITE)).signature.sign(
    signer.signaturePrivateKey,
    payloadOf(keyPackage),
  );
  return {
    mlsSignature: Buffer.from(signature).toString("base64"),
    mlsSignerKeyId: signerKeyId(signer.signaturePublicKey),
  };
}

/** Whether `id` names `key`: our hex SHA-256, or the raw key in hex or base64 (peers' spellings). */
function names(id: string, key: Uint8Array): boolean {
  const raw = Buffer.from(key);
  return (
    id.toLowerCase() === signerKeyId(key) ||
    id.toLowerCase() === raw.toString("hex") ||
    id.replace(/=+$/, "") === raw.toString("base64").replace(/=+$/, "") ||
    id === raw.toString("base64url")
  );
}

/**
 * The key among `candidates` whose endorsement of `keyPackage` verifies, or undefined. A signer id that names
 * none of them (another client's derivation) does not stop the check: every candidate is tried, as Bonfire's
 * receivers do. The KeyPackage's own key does not endorse it (a self-signature proves nothing).
 */
export async function endorsementSigner(
  keyPackage: Uint8Array,
  ownKey: Uint8Array,
  endorsement: { readonly mlsSignature?: string; readonly mlsSignerKeyId?: string },
  candidates: readonly Uint8Array[],
): Promise<Uint8Array | undefined> {
  if (endorsement.mlsSignature === undefined) return undefined;
  const signature = new Uint8Array(Buffer.from(endorsement.mlsSignature, "base64"));
  if (signature.length !== 64) return undefined;
  const others = candidates.filter((k) => !bytesEqual(k, ownKey));
  const id = endorsement.mlsSignerKeyId;
  const named = id === undefined ? [] : others.filter((k) => names(id, k));
  const ordered = [...named, ...others.filter((k) => !named.includes(k))];
  const { signature: scheme } = await suiteImpl(DEFAULT_SUITE);
  for (const key of ordered) {
    for (const message of [payloadOf(keyPackage), keyPackage]) {
      if (await scheme.verify(key, message, signature).catch(() => false)) return key;
    }
  }
  return undefined;
}
