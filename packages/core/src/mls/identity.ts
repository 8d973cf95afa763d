import type { Credential, CredentialBasic } from "ts-mls";
import { err, ok, type Result } from "../result.js";
import { type MlsEngineError, mlsError } from "./errors.js";
import { DEFAULT_SUITE, suiteImpl } from "./suite.js";

/**
 * One device of one actor: an MLS leaf. Its Ed25519 signature key signs every KeyPackage and message of the
 * device; the credential is a BasicCredential whose identity is the actor id. Holds a private key: store it
 * encrypted (encodeDeviceIdentity) and never log it.
 */
export interface DeviceIdentity {
  readonly actorId: string;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

export function credentialOf(actorId: string): CredentialBasic {
  return { credentialType: "basic", identity: new TextEncoder().encode(actorId) };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The actor id in a BasicCredential, or undefined for other credential types or non-UTF-8 identities. */
export function actorIdOf(credential: Credential): string | undefined {
  if (credential.credentialType !== "basic") return undefined;
  try {
    return utf8.decode(credential.identity);
  } catch {
    return undefined;
  }
}

export async function generateDeviceIdentity(actorId: string): Promise<DeviceIdentity> {
  const { publicKey, signKey } = await (await suiteImpl(DEFAULT_SUITE)).signature.keygen();
  return { actorId, signaturePublicKey: publicKey, signaturePrivateKey: signKey };
}

const IDENTITY_VERSION = 1;

/** Versioned bytes for the store: a version byte, then JSON with base64 keys. */
export function encodeDeviceIdentity(device: DeviceIdentity): Uint8Array {
  const json = JSON.stringify({
    actorId: device.actorId,
    signaturePublicKey: Buffer.from(device.signaturePublicKey).toString("base64"),
    signaturePrivateKey: Buffer.from(device.signaturePrivateKey).toString("base64"),
  });
  return Uint8Array.from([IDENTITY_VERSION, ...new TextEncoder().encode(json)]);
}

export function decodeDeviceIdentity(bytes: Uint8Array): Result<DeviceIdentity, MlsEngineError> {
  if (bytes[0] !== IDENTITY_VERSION) return err(mlsError("malformed", "unknown device identity version"));
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(1)));
    if (typeof json !== "object" || json === null) throw new TypeError("not an object");
    const { actorId, signaturePublicKey, signaturePrivateKey } = json as Record<string, unknown>;
    if (
      typeof actorId !== "string" ||
      typeof signaturePublicKey !== "string" ||
      typeof signaturePrivateKey !== "string"
    )
      throw new TypeError("missing fields");
    return ok({
      actorId,
      signaturePublicKey: new Uint8Array(Buffer.from(signaturePublicKey, "base64")),
      signaturePrivateKey: new Uint8Array(Buffer.from(signaturePrivateKey, "base64")),
    });
  } catch (cause) {
    return err(mlsError("malformed", "device identity does not decode", cause));
  }
}
