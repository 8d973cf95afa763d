// Property-based fuzzing of every MLS decoding path with generated and mutated inputs: whatever the bytes,
// the engine answers with a value or a typed MlsEngineError, never an untyped exception.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../result.js";
import {
  type Conversation,
  createConversation,
  type DeviceIdentity,
  decodeConversation,
  decodeDeviceIdentity,
  encodeConversation,
  encryptMessage,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  leaveConversation,
  MlsEngineError,
  type OwnKeyPackage,
  processMessage,
  readKeyPackage,
  readMlsMessage,
  updateConversation,
} from "./index.js";

const alice = "https://example.test/users/alice";
const bob = "https://example.test/users/bob";

let bobDevice: DeviceIdentity;
let bobPool: OwnKeyPackage[];
let bobConversation: Conversation;
const samples: Record<
  "application" | "commit" | "publicCommit" | "proposal" | "welcome" | "keyPackage",
  Uint8Array
> = {} as never;

beforeAll(async () => {
  const aliceDevice = await generateDeviceIdentity(alice);
  bobDevice = await generateDeviceIdentity(bob);
  bobPool = await generateKeyPackages(bobDevice, { count: 1, time: new Date() });
  const fetcher = { keyPackagesOf: async () => bobPool.map((p) => p.keyPackage) };
  const ctx = { device: aliceDevice, fetcher, time: new Date() };
  const created = await createConversation(ctx, { members: [bob] });
  const joined = await joinConversation(bobDevice, created.welcome as Uint8Array, bobPool);
  if (!joined.ok) throw joined.error;
  bobConversation = joined.value.conversation;
  samples.welcome = created.welcome as Uint8Array;
  samples.keyPackage = (bobPool[0] as OwnKeyPackage).keyPackage;
  samples.application = (
    await encryptMessage(created.conversation, new TextEncoder().encode("x".repeat(200)))
  ).message;
  samples.proposal = (await leaveConversation(created.conversation)).proposal;
  samples.commit = (await updateConversation(ctx, created.conversation)).commit;
  samples.publicCommit = (
    await updateConversation(ctx, { ...created.conversation, handshake: "public" })
  ).commit;
});

type Edit = readonly [position: number, byte: number, op: "set" | "insert" | "delete" | "truncate"];

function mutate(base: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let bytes = Array.from(base);
  for (const [position, byte, op] of edits) {
    const at = bytes.length === 0 ? 0 : position % bytes.length;
    if (op === "set") bytes[at] = byte;
    else if (op === "insert") bytes.splice(at, 0, byte);
    else if (op === "delete") bytes.splice(at, 1);
    else bytes = bytes.slice(0, at);
  }
  return Uint8Array.from(bytes);
}

const edits = fc.array(
  fc.tuple(
    fc.nat(),
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom("set", "insert", "delete", "truncate"),
  ),
  { minLength: 1, maxLength: 4 },
) as fc.Arbitrary<Edit[]>;

function mutated(kinds: readonly (keyof typeof samples)[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...kinds), edits).map(([kind, e]) => mutate(samples[kind], e));
}

function typed<T>(result: Result<T, unknown>): boolean {
  return result.ok || result.error instanceof MlsEngineError;
}

describe("MLS decoding under fuzzing", () => {
  it("readMlsMessage and readKeyPackage type every failure (random and mutated bytes)", () => {
    const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated(Object.keys(samples) as never));
    let runs = 0;
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        runs++;
        return typed(readMlsMessage(bytes)) && typed(readKeyPackage(bytes));
      }),
      { numRuns: 5000 },
    );
    expect(runs).toBe(5000);
  });

  it("processMessage types every failure of mutated group messages and leaves the state usable", async () => {
    const before = encodeConversation(bobConversation);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutated(["application", "commit", "publicCommit", "proposal"]),
          fc.uint8Array({ maxLength: 300 }),
        ),
        async (bytes) => {
          runs++;
          return typed(await processMessage(bobConversation, { bytes }));
        },
      ),
      { numRuns: 5000 },
    );
    expect(runs).toBe(5000);
    // The conversation value is immutable: fuzzing did not touch it, and the genuine message still reads.
    expect(encodeConversation(bobConversation)).toEqual(before);
    const genuine = await processMessage(bobConversation, { bytes: samples.application });
    expect(genuine.ok && genuine.value.kind === "application").toBe(true);
  });

  it("joinConversation types every failure of mutated Welcomes", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(mutated(["welcome"]), async (bytes) => {
        runs++;
        return typed(await joinConversation(bobDevice, bytes, bobPool));
      }),
      { numRuns: 1000 },
    );
    expect(runs).toBe(1000);
  });

  it("decodeConversation and decodeDeviceIdentity type every failure of mutated stored bytes", () => {
    const stored = encodeConversation(bobConversation);
    let runs = 0;
    fc.assert(
      fc.property(edits, fc.uint8Array({ maxLength: 100 }), (e, random) => {
        runs++;
        return typed(decodeConversation(mutate(stored, e))) && typed(decodeDeviceIdentity(random));
      }),
      { numRuns: 1000 },
    );
    expect(runs).toBe(1000);
  });
});
