// Decoding MLS content bytes. The kind of an envelope comes from here, never from the ActivityPub type.
import { decodeMlsMessage, type KeyPackage, type MLSMessage } from "ts-mls";
import { decodeKeyPackage } from "ts-mls/keyPackage.js";
import { err, ok, type Result } from "../result.js";
import { EnvelopeError } from "./errors.js";

export type MlsKind = "welcome" | "public_message" | "private_message" | "group_info" | "key_package";

const KIND_BY_WIREFORMAT = {
  mls_public_message: "public_message",
  mls_private_message: "private_message",
  mls_welcome: "welcome",
  mls_group_info: "group_info",
  mls_key_package: "key_package",
} as const satisfies Record<MLSMessage["wireformat"], MlsKind>;

const WIREFORMAT_CODES = { public_message: 1, private_message: 2, welcome: 3, group_info: 4, key_package: 5 };
const MLS10 = 1;

export interface DecodedMls {
  readonly kind: MlsKind;
  /** The MLSMessage encoding (a raw KeyPackage gets its 4-byte MLSMessage header prepended). */
  readonly bytes: Uint8Array;
  readonly message: MLSMessage;
}

// ts-mls decoders return undefined on most bad input but throw CodecError on some length prefixes.
function attempt<T>(decode: () => [T, number] | undefined, length: number): T | undefined {
  try {
    const decoded = decode();
    return decoded !== undefined && decoded[1] === length ? decoded[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a raw (unframed) KeyPackage encoding; undefined unless the bytes are exactly one KeyPackage. */
export function decodeRawKeyPackage(bytes: Uint8Array): KeyPackage | undefined {
  return attempt(() => decodeKeyPackage(bytes, 0), bytes.length);
}

/** The kind an MLSMessage encoding announces in its header, without decoding the rest. */
export function peekKind(bytes: Uint8Array): MlsKind | undefined {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== MLS10 || bytes[2] !== 0) return undefined;
  const entry = Object.entries(WIREFORMAT_CODES).find(([, code]) => code === bytes[3]);
  return entry?.[0] as MlsKind | undefined;
}

/** The MLSMessage framing of a raw KeyPackage. */
export function frameKeyPackage(raw: Uint8Array): Uint8Array {
  const framed = new Uint8Array(raw.length + 4);
  framed.set([0, MLS10, 0, WIREFORMAT_CODES.key_package]);
  framed.set(raw, 4);
  return framed;
}

/**
 * Decodes MLS content. `rawKeyPackage` also accepts a bare KeyPackage (what Emissary and Bonfire publish):
 * it is tried first, since a raw suite-1 KeyPackage starts with the same four bytes as a framed PublicMessage.
 */
export function decodeMlsContent(
  bytes: Uint8Array,
  options: { readonly rawKeyPackage: boolean },
): Result<DecodedMls, EnvelopeError> {
  if (options.rawKeyPackage) {
    const keyPackage = decodeRawKeyPackage(bytes);
    if (keyPackage !== undefined) {
      return ok({
        kind: "key_package",
        bytes: frameKeyPackage(bytes),
        message: { version: keyPackage.version, wireformat: "mls_key_package", keyPackage },
      });
    }
  }
  const message = attempt(() => decodeMlsMessage(bytes, 0), bytes.length);
  if (message === undefined) {
    return err(new EnvelopeError("mls_decode_failed", "is not an MLSMessage", "content"));
  }
  return ok({ kind: KIND_BY_WIREFORMAT[message.wireformat], bytes, message });
}
