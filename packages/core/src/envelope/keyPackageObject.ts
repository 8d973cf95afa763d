// KeyPackage objects (spec §KeyPackage): read leniently (raw or framed content, any ciphersuite spelling),
// written conservatively (raw content, Public, generator, ciphersuite string name).
import type { KeyPackage } from "ts-mls";
import { sanitizeTextField } from "../appdata/sanitize.js";
import { err, ok, type Result } from "../result.js";
import type { CiphersuiteName } from "../vocab/ciphersuite.js";
import { PUBLIC_COLLECTION } from "../vocab/context.js";
import { encodeBase64 } from "./base64.js";
import { EnvelopeError } from "./errors.js";
import { decodeRawKeyPackage } from "./mlsBytes.js";
import { type Envelope, readEnvelope } from "./read.js";
import { defaultSummary, type Generator, generatorNode, MLS_JSON_LD_CONTEXT } from "./writeMessage.js";

export interface KeyPackageObject {
  readonly id?: string;
  /** The publishing actor (`attributedTo`, or the wrapping activity's `actor`). */
  readonly actor?: string;
  readonly keyPackage: KeyPackage;
  /** The raw KeyPackage encoding (framing removed), as the Authentication Service and KeyPackageRef need. */
  readonly keyPackageBytes: Uint8Array;
  readonly ciphersuite: CiphersuiteName;
  readonly generator?: string;
  /** The name its `generator` gives the device (plain text, sanitized), when it gives one. */
  readonly generatorName?: string;
  readonly published?: string;
  readonly isPublic: boolean;
  /** An endorsement by another device of the actor (`mlsSignature` / `mlsSignerKeyId`), when present. */
  readonly endorsement?: { readonly mlsSignature: string; readonly mlsSignerKeyId?: string };
  readonly envelope: Envelope;
}

/** Bonfire's endorsement terms (its own context names them), also as a compacting server may write them. */
export const ENDORSEMENT_CONTEXT = {
  mlsSignature: "https://purl.archive.org/socialweb/mls#Signature",
  mlsSignerKeyId: "https://purl.archive.org/socialweb/mls#SignerKeyId",
} as const;

function stringField(node: unknown, names: readonly string[]): string | undefined {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
  for (const name of names) {
    const value = (node as Record<string, unknown>)[name];
    if (typeof value === "string" && value.length > 0 && value.length <= 1024) return value;
  }
  return undefined;
}

/** The endorsement on the object, else on the activity that carries it (Bonfire puts it on both). */
function readEndorsement(input: unknown): KeyPackageObject["endorsement"] {
  const object =
    typeof input === "object" && input !== null && "object" in input
      ? (input as { object: unknown }).object
      : undefined;
  for (const node of [object, input]) {
    const mlsSignature = stringField(node, ["mlsSignature", "mls:Signature", "mls:mlsSignature"]);
    if (mlsSignature === undefined) continue;
    const mlsSignerKeyId = stringField(node, ["mlsSignerKeyId", "mls:SignerKeyId", "mls:mlsSignerKeyId"]);
    return { mlsSignature, ...(mlsSignerKeyId === undefined ? {} : { mlsSignerKeyId }) };
  }
  return undefined;
}

/** The device's name: the `generator`'s `name` on the object, else on the activity that carries it. */
function readGeneratorName(input: unknown): string | undefined {
  const object =
    typeof input === "object" && input !== null && "object" in input
      ? (input as { object: unknown }).object
      : undefined;
  for (const node of [object, input]) {
    if (typeof node !== "object" || node === null) continue;
    const name = stringField((node as { generator?: unknown }).generator, ["name"]);
    const text = name === undefined ? "" : sanitizeTextField(name).trim();
    if (text !== "") return text;
  }
  return undefined;
}

/** Reads a KeyPackage object, bare or wrapped (Create, Update in place, Add). */
export function readKeyPackageObject(input: unknown): Result<KeyPackageObject, EnvelopeError> {
  const read = readEnvelope(input);
  if (!read.ok) return read;
  const envelope = read.value;
  if (envelope.message.wireformat !== "mls_key_package") {
    return err(new EnvelopeError("not_key_package", `holds a ${envelope.kind}, not a KeyPackage`, "content"));
  }
  const { keyPackage } = envelope.message;
  const endorsement = readEndorsement(input);
  const generatorName = readGeneratorName(input);
  return ok({
    id: envelope.objectId,
    actor: envelope.actor,
    keyPackage,
    keyPackageBytes: envelope.bytes.subarray(4),
    ciphersuite: keyPackage.cipherSuite,
    generator: envelope.generator,
    ...(generatorName === undefined ? {} : { generatorName }),
    published: envelope.published,
    isPublic: envelope.isPublic,
    ...(endorsement === undefined ? {} : { endorsement }),
    envelope,
  });
}

export interface KeyPackageObjectInput {
  readonly actor: string;
  /** The raw KeyPackage encoding (what Emissary and Bonfire publish and read). */
  readonly keyPackage: Uint8Array;
  readonly generator: Generator;
  readonly id?: string;
  readonly published?: string;
  readonly summary?: string;
  /** Who vouches for this device: the device itself, or the trusted device that linked it. */
  readonly endorsement?: { readonly mlsSignature: string; readonly mlsSignerKeyId: string };
}

export interface KeyPackageObjectJson {
  readonly "@context":
    | typeof MLS_JSON_LD_CONTEXT
    | readonly [...typeof MLS_JSON_LD_CONTEXT, typeof ENDORSEMENT_CONTEXT];
  readonly type: "KeyPackage";
  readonly id?: string;
  readonly attributedTo: string;
  readonly to: string;
  readonly mediaType: "message/mls";
  readonly encoding: "base64";
  readonly content: string;
  readonly summary: string;
  readonly ciphersuite: CiphersuiteName;
  readonly generator: { readonly id: string; readonly type: "Application"; readonly name?: string };
  readonly published?: string;
  readonly mlsSignature?: string;
  readonly mlsSignerKeyId?: string;
}

/** Builds a KeyPackage object. Throws EnvelopeError when the bytes are not a raw KeyPackage (a caller bug). */
export function writeKeyPackageObject(input: KeyPackageObjectInput): KeyPackageObjectJson {
  const keyPackage = decodeRawKeyPackage(input.keyPackage);
  if (keyPackage === undefined) {
    throw new EnvelopeError("not_key_package", "is not a raw KeyPackage encoding", "content");
  }
  return {
    "@context":
      input.endorsement === undefined ? MLS_JSON_LD_CONTEXT : [...MLS_JSON_LD_CONTEXT, ENDORSEMENT_CONTEXT],
    type: "KeyPackage",
    ...(input.id === undefined ? {} : { id: input.id }),
    attributedTo: input.actor,
    to: PUBLIC_COLLECTION,
    mediaType: "message/mls",
    encoding: "base64",
    content: encodeBase64(input.keyPackage),
    summary: input.summary ?? defaultSummary("KeyPackage"),
    ciphersuite: keyPackage.cipherSuite,
    generator: generatorNode(input.generator),
    ...(input.published === undefined ? {} : { published: input.published }),
    ...input.endorsement,
  };
}
