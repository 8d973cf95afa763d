// Property-based fuzzing of the application-data parser: 12,000 generated and mutated inputs (JSON values,
// activity-shaped documents, mutations of the spec's and Emissary's shapes, raw bytes, mutated text). Errors
// are typed AppErrors with known codes; whatever parses survives write -> read unchanged, and no script
// survives sanitizing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mutatedDocuments, mutatedTexts } from "../envelope/fixtures/mutate.js";
import { specExample } from "../envelope/fixtures/specExamples.js";
import { APP_DATA_ERROR_CODES, AppDataError } from "./errors.js";
import { readApplicationData } from "./read.js";
import { applicationDataToJson, writeApplicationData } from "./write.js";

const SPEC_LABELS = ["A8", "A9", "A10", "A11", "A12", "A13", "A14", "A15", "A16", "A17", "A18", "A19"];
const SEEDS: unknown[] = [
  ...SPEC_LABELS.map((label) => JSON.parse(specExample(label))),
  {
    type: "Create",
    id: "uri:uuid:1",
    actor: "https://emissary.example/@alice",
    object: {
      type: "Note",
      id: "uri:uuid:2",
      content: '<p>hi <a href="https://x.example">x</a></p>',
      tag: [{ type: "Mention", href: "https://b.example/bob", name: "@bob" }],
      attachment: [{ type: "Image", url: "data:image/png;base64,iVBORw0KGgo=", width: 1, height: 1 }],
    },
  },
  { type: "Like", id: "uri:uuid:3", object: "uri:uuid:2", content: "👍" },
  { type: "Acknowledge", id: "uri:uuid:4", object: "uri:uuid:2" },
  { type: "Undo", id: "uri:uuid:5", object: { type: "Like", id: "uri:uuid:3" } },
];

const HTML_BITS = fc.constantFrom(
  "<script>alert(1)</script>",
  '<img src="https://t.example/x.png" onerror="x()">',
  '<a href="javascript:alert(1)">j</a>',
  '<a href="https://ok.example" onclick="x()">ok</a>',
  "<style>*{}</style>",
  '<iframe src="https://e.example"></iframe>',
  "<b>bold</b>",
  "&lt;script&gt;",
  "<svg><script>1</script></svg>",
);
const html = fc
  .array(fc.oneof(HTML_BITS, fc.string({ maxLength: 12 })), { maxLength: 6 })
  .map((parts) => parts.join(""));
const anyJson = fc.jsonValue({ maxDepth: 4 });
const activityLike = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom("Create", "Update", "Delete", "Like", "Announce", "Undo", "Read", "Note", "Image"),
      anyJson,
    ),
    id: fc.oneof(fc.constantFrom("urn:uuid:1", "uri:uuid:2", "https://x.example/1"), anyJson),
    content: fc.oneof(html, anyJson),
    object: fc.oneof(
      anyJson,
      fc.record(
        {
          type: fc.constantFrom("Note", "Article", "Image", "Audio", "Video", "Question"),
          id: fc.constantFrom("urn:uuid:9", "https://x.example/9"),
          content: fc.oneof(html, fc.base64String({ maxLength: 40 })),
          summary: html,
          name: html,
          attachment: anyJson,
          tag: anyJson,
          url: fc.oneof(
            fc.constant("data:image/png;base64,AAAA"),
            fc.string({ maxLength: 20 }).map((s) => `data:${s}`),
          ),
        },
        { requiredKeys: ["type"] },
      ),
    ),
  },
  { requiredKeys: [] },
);

function check(input: unknown): void {
  const result = readApplicationData(input);
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(AppDataError);
    expect(APP_DATA_ERROR_CODES).toContain(result.error.code);
    return;
  }
  if (result.value.type === "unsupported") return;
  const json = JSON.stringify(applicationDataToJson(result.value));
  expect(json).not.toMatch(/<script|<img|<iframe|<style|javascript:|onerror|onclick/i);
  const again = readApplicationData(writeApplicationData(result.value));
  expect(again.ok).toBe(true);
  if (again.ok && again.value.type !== "unsupported") {
    // Attachments outside the profile are not written, so their count is the one thing that may drop.
    expect(JSON.stringify(applicationDataToJson(again.value))).toBe(json);
  }
}

describe("fuzzing the application-data parser (only typed errors)", () => {
  it("survives 2,500 arbitrary JSON values", () => {
    fc.assert(fc.property(anyJson, check), { numRuns: 2500 });
  });

  it("survives 3,000 activity-shaped documents with hostile HTML and random values", () => {
    fc.assert(fc.property(activityLike, check), { numRuns: 3000 });
  });

  it("survives 4,000 mutations of the spec's and Emissary's shapes", () => {
    fc.assert(fc.property(mutatedDocuments(SEEDS), check), { numRuns: 4000 });
  });

  it("survives 1,500 mutated JSON texts and 1,000 random byte strings", () => {
    fc.assert(fc.property(mutatedTexts(SEEDS), check), { numRuns: 1500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 1000 });
  });
});
