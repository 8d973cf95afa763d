// Decoding MLS bytes from the network. ts-mls decoders return `undefined` on most bad input but can also throw
// (RangeError on truncated lengths and the like); both become one typed `malformed` error.
import { createHash } from "node:crypto";
import { decodeMlsMessage, type KeyPackage, type MLSMessage } from "ts-mls";
import { decodeKeyPackage } from "ts-mls/keyPackage.js";
import { err, ok, type Result } from "../result.js";
import { type MlsEngineError, mlsError } from "./errors.js";

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function decodeWhole<T>(
  bytes: Uint8Array,
  what: string,
  decode: () => [T, number] | undefined,
): Result<T, MlsEngineError> {
  try {
    const decoded = decode();
    if (decoded === undefined) return err(mlsError("malformed", `bytes do not decode as ${what}`));
    if (decoded[1] !== bytes.length) return err(mlsError("malformed", `trailing bytes after ${what}`));
    return ok(decoded[0]);
  } catch (cause) {
    return err(mlsError("malformed", `bytes do not decode as ${what}`, cause));
  }
}

/** An MLSMessage (RFC 9420 §6): Welcome, PublicMessage, PrivateMessage, GroupInfo or KeyPackage. */
export function readMlsMessage(bytes: Uint8Array): Result<MLSMessage, MlsEngineError> {
  return decodeWhole(bytes, "an MLSMessage", () => decodeMlsMessage(bytes, 0));
}

/** A KeyPackage, raw (as Emissary and Bonfire publish it) or framed in an MLSMessage. */
export function readKeyPackage(bytes: Uint8Array): Result<KeyPackage, MlsEngineError> {
  const raw = decodeWhole(bytes, "a KeyPackage", () => decodeKeyPackage(bytes, 0));
  if (raw.ok) return raw;
  const framed = readMlsMessage(bytes);
  if (framed.ok && framed.value.wireformat === "mls_key_package") return ok(framed.value.keyPackage);
  return raw;
}
