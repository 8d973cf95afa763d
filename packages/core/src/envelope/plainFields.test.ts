// The cheap field check must never pass what the zod schemas refuse (it only skips them), and must pass what
// sottod sends (or it saves nothing).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MLS_OBJECT_TYPES, mlsObjectSchemas } from "../vocab/schemas.js";
import { ALICE, BOB, GROUP_ID, mlsSamples } from "./fixtures/mls.js";
import { hasPlainFields, PLAIN_FIELDS } from "./plainFields.js";
import { writeMessageCreate } from "./writeMessage.js";

const samples = await mlsSamples();

describe("hasPlainFields", () => {
  it("knows every field of every MLS object schema", () => {
    for (const type of MLS_OBJECT_TYPES) {
      const unknown = Object.keys(mlsObjectSchemas[type].shape).filter(
        (field) => !PLAIN_FIELDS.includes(field) && field !== "type" && field !== "ciphersuite",
      );
      expect(unknown, type).toEqual([]);
    }
  });

  it("passes the object of a message as sottod sends it", () => {
    const { object } = writeMessageCreate({
      actor: ALICE,
      recipients: [BOB],
      bytes: samples.applicationMessage,
      context: GROUP_ID,
      activityId: `${ALICE}/c/1`,
      objectId: `${ALICE}/o/1`,
      published: "2026-12-02T12:00:00.000Z",
      generator: { id: "https://sotto.example/devices/1", name: "sottod" },
    });
    expect(hasPlainFields({ ...object, type: [object.type] })).toBe(true);
  });

  it("passes nothing the schema refuses, in 20,000 generated objects", { timeout: 600_000 }, () => {
    // Mostly absent or plain values, so that many objects pass; the rest tricky or arbitrary.
    const value = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 6 },
      {
        arbitrary: fc.constantFrom("a", "https://x", { id: "https://x" }, ["a", { id: "b" }], []),
        weight: 6,
      },
      {
        arbitrary: fc.oneof(
          fc.string({ maxLength: 3 }),
          fc.constantFrom("message/mls", "base64", "message/mls; x", "MESSAGE/MLS", "", null, 1),
          fc.record({ id: fc.oneof(fc.string({ maxLength: 2 }), fc.integer()) }),
          fc.array(fc.oneof(fc.string({ maxLength: 2 }), fc.record({ id: fc.string({ maxLength: 2 }) }))),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        weight: 1,
      },
    );
    const fields = [...PLAIN_FIELDS, "ciphersuite"];
    const object = fc.record(
      { ...Object.fromEntries(fields.map((f) => [f, value])), content: fc.oneof(fc.string(), value) },
      { requiredKeys: [] },
    );
    let passed = 0;
    fc.assert(
      fc.property(object, fc.constantFrom(...MLS_OBJECT_TYPES), (fieldsOf, type) => {
        const candidate = Object.fromEntries(
          Object.entries({ ...fieldsOf, type: [type] }).filter(([, v]) => v !== undefined),
        );
        if (!hasPlainFields(candidate)) return;
        passed++;
        expect(mlsObjectSchemas[type].safeParse(candidate).success).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    expect(passed).toBeGreaterThan(100);
  });
});
