// Property-based fuzzing of the envelope readers: 12,000 generated and mutated inputs to readEnvelope, and
// more to the KeyPackage readers. Whatever comes in, the answer is a Result whose error is a typed
// EnvelopeError with a known code; a success carries bytes whose header agrees with its kind.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Result } from "../result.js";
import { encodeBase64 } from "./base64.js";
import { ENVELOPE_ERROR_CODES, EnvelopeError } from "./errors.js";
import { ALICE, BOB, GROUP_ID, mlsSamples } from "./fixtures/mls.js";
import { mutatedDocuments, mutatedTexts } from "./fixtures/mutate.js";
import { readKeyPackageActivity } from "./keyPackageActivity.js";
import { readKeyPackageObject, writeKeyPackageObject } from "./keyPackageObject.js";
import { readKeyPackagesProperty } from "./keyPackages.js";
import { peekKind } from "./mlsBytes.js";
import { type Envelope, readEnvelope } from "./read.js";
import { writeMessageCreate } from "./writeMessage.js";

const samples = await mlsSamples();
const generator = { id: "https://sotto.example/devices/1", name: "sottod" };
const message = (bytes: Uint8Array) =>
  writeMessageCreate({
    actor: ALICE,
    recipients: [BOB],
    bytes,
    context: GROUP_ID,
    activityId: `${ALICE}/c/1`,
  });

const SEEDS = [
  message(samples.applicationMessage),
  message(samples.welcome),
  message(samples.publicCommit),
  message(samples.groupInfo),
  {
    ...message(samples.removeCommit),
    object: { ...message(samples.removeCommit).object, type: "GroupInfo" },
  },
  {
    type: ["Object", "mls:PrivateMessage"],
    attributedTo: BOB,
    to: ALICE,
    "mls:content": encodeBase64(samples.removeProposal),
  },
  writeKeyPackageObject({ actor: ALICE, keyPackage: samples.aliceKeyPackage, generator }),
  {
    type: "Add",
    actor: BOB,
    target: `${BOB}/kp`,
    object: { type: "KeyPackage", content: encodeBase64(samples.bobKeyPackage) },
  },
  {
    id: ALICE,
    keyPackages: {
      type: "OrderedCollection",
      first: { type: "OrderedCollectionPage", orderedItems: [`${ALICE}/kp/1`] },
    },
  },
];

function expectTyped<T>(result: Result<T, EnvelopeError>): void {
  if (result.ok) return;
  expect(result.error).toBeInstanceOf(EnvelopeError);
  expect(ENVELOPE_ERROR_CODES).toContain(result.error.code);
}

function checkEnvelope(input: unknown): void {
  const result: Result<Envelope, EnvelopeError> = readEnvelope(input);
  expectTyped(result);
  if (result.ok) expect(peekKind(result.value.bytes)).toBe(result.value.kind);
}

const anyJson = fc.jsonValue({ maxDepth: 4 });
/** JSON shaped like an envelope, with random values where the reader looks. */
const envelopeLike = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom("Create", "PrivateMessage", "KeyPackage", "Welcome", "GroupInfo"),
      anyJson,
    ),
    actor: anyJson,
    to: anyJson,
    object: fc.oneof(
      anyJson,
      fc.record(
        {
          type: fc.constantFrom("PrivateMessage", "mls:Welcome", "KeyPackage"),
          content: fc.oneof(fc.base64String(), anyJson),
          to: anyJson,
        },
        { requiredKeys: ["type"] },
      ),
    ),
    content: fc.oneof(
      fc.base64String({ maxLength: 400 }),
      fc.uint8Array({ maxLength: 300 }).map(encodeBase64),
    ),
  },
  { requiredKeys: [] },
);

// Sized by count: on a loaded two-core machine one case took 173 s, so each gets ten minutes.
describe("fuzzing the envelope reader (only typed errors)", { timeout: 600_000 }, () => {
  it("survives 3,000 arbitrary JSON values", () => {
    fc.assert(fc.property(anyJson, checkEnvelope), { numRuns: 3000 });
  });

  it("survives 2,000 envelope-shaped documents with random values and random MLS bytes", () => {
    fc.assert(fc.property(envelopeLike, checkEnvelope), { numRuns: 2000 });
  });

  it("survives 5,000 mutations of valid envelopes (JSON structure and MLS bytes)", () => {
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(mutatedDocuments(SEEDS), (input) => {
        checkEnvelope(input);
        const result = readEnvelope(input);
        outcomes.add(result.ok ? `ok:${result.value.kind}` : result.error.code);
      }),
      { numRuns: 5000 },
    );
    // The mutations reach deep: valid envelopes of several kinds survive, and many different checks fire.
    expect([...outcomes].filter((o) => o.startsWith("ok:")).length).toBeGreaterThanOrEqual(3);
    expect(outcomes.has("mls_decode_failed")).toBe(true);
    expect([...outcomes].filter((o) => !o.startsWith("ok:")).length).toBeGreaterThanOrEqual(8);
  });

  it("survives 2,000 character-level mutations of the JSON text", () => {
    fc.assert(fc.property(mutatedTexts(SEEDS), checkEnvelope), { numRuns: 2000 });
  });

  it("keeps the KeyPackage readers typed on 1,500 mutated inputs", () => {
    fc.assert(
      fc.property(mutatedDocuments(SEEDS), (input) => {
        expectTyped(readKeyPackageObject(input));
        expectTyped(readKeyPackagesProperty(input));
        expectTyped(readKeyPackageActivity(input));
      }),
      { numRuns: 1500 },
    );
  });
});
