// KeyPackage objects (spec §KeyPackage): read leniently (raw or framed content, any ciphersuite spelling),
// written conservatively (raw content, Public, generator, ciphersuite string name).
import type { KeyPackage } from "ts-mls";
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
  readonly published?: string;
  readonly isPublic: boolean;
  readonly envelope: Envelope;
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
  return ok({
    id: envelope.objectId,
    actor: envelope.actor,
    keyPackage,
    keyPackageBytes: envelope.bytes.subarray(4),
    ciphersuite: keyPackage.cipherSuite,
    generator: envelope.generator,
    published: envelope.published,
    isPublic: envelope.isPublic,
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
}

export interface KeyPackageObjectJson {
  readonly "@context": typeof MLS_JSON_LD_CONTEXT;
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
}

/** Builds a KeyPackage object. Throws EnvelopeError when the bytes are not a raw KeyPackage (a caller bug). */
export function writeKeyPackageObject(input: KeyPackageObjectInput): KeyPackageObjectJson {
  const keyPackage = decodeRawKeyPackage(input.keyPackage);
  if (keyPackage === undefined) {
    throw new EnvelopeError("not_key_package", "is not a raw KeyPackage encoding", "content");
  }
  return {
    "@context": MLS_JSON_LD_CONTEXT,
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
  };
}
