// The spec's application-data examples (A8–A19, A27 of shared/spec/examples.md), verbatim, through the
// parser and back through the writer. A27 illustrates `encoding` with an HTTPS id, which application data
// may not have: it yields the typed error https_id.
import { describe, expect, it } from "vitest";
import { specExample } from "../envelope/fixtures/specExamples.js";
import type { ApplicationActivity } from "./model.js";
import { readApplicationData } from "./read.js";
import { writeApplicationData } from "./write.js";

const VALID = ["A8", "A9", "A10", "A11", "A12", "A13", "A14", "A15", "A16", "A17", "A18", "A19"];

function read(label: string): ApplicationActivity {
  const result = readApplicationData(specExample(label));
  if (!result.ok) throw new Error(`${label}: ${result.error.code}`);
  if (result.value.type === "unsupported") throw new Error(`${label}: unsupported`);
  return result.value;
}

describe("spec application-data examples", () => {
  it.each(VALID)("%s round-trips through the writer", (label) => {
    const data = read(label);
    const again = readApplicationData(writeApplicationData(data));
    expect(again).toEqual({ ok: true, value: data });
  });

  it("reads the content objects A8–A11 as implicit Creates", () => {
    expect(read("A8")).toEqual({
      type: "Create",
      object: {
        form: "embedded",
        value: {
          type: "Note",
          id: "uri:uuid:CFCD9E78-03E4-404E-A7A8-3E17A78EC4E1",
          content: "<br />Hello, World!",
        },
      },
    });
    const reply = read("A9").object;
    expect(reply?.form === "embedded" && reply.value.inReplyTo).toBe(
      "uri:uuid:CFCD9E78-03E4-404E-A7A8-3E17A78EC4E1",
    );
    const article = read("A10").object;
    expect(article?.form === "embedded" && article.value).toMatchObject({
      type: "Article",
      name: "A simple countdown",
      summary: "<br />This article counts down from five to one.",
      content: "<br />Five!<br />Four!<br />Three!<br />Two!<br />One!",
    });
    const image = read("A11").object;
    if (image?.form !== "embedded") throw new Error("A11 not embedded");
    expect(image.value.media?.mediaType).toBe("image/png");
    expect([...(image.value.media?.bytes.subarray(0, 4) ?? [])]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it("reads the activities A12–A19", () => {
    expect(read("A12")).toMatchObject({
      type: "Create",
      id: "uri:uuid:C63C6A5C-68EE-4327-86CE-C1B1328B5F2F",
    });
    const update = read("A13").object;
    expect(update?.form === "embedded" && update.value.content).toBe("<br />Hello, <s>World</s> Universe!");
    expect(read("A14").object).toEqual({
      form: "reference",
      id: "uri:uuid:CFCD9E78-03E4-404E-A7A8-3E17A78EC4E1",
    });
    expect(read("A15").object).toEqual({
      form: "reference",
      id: "uri:uuid:3298C3D5-E55E-4FAA-B365-5C81034CAF10",
      type: "Article",
    });
    expect(read("A16")).toMatchObject({
      type: "Announce",
      content: "Here's Jake's earlier message you might have missed, Janice",
      object: {
        form: "embedded",
        value: { type: "Note", id: "uri:uuid:C52C4A75-0EE2-4E2B-BDFA-3BEAC534A24D" },
      },
    });
    expect(read("A17").object).toEqual({
      form: "activity",
      value: { type: "Like", id: "uri:uuid:0DDF82B4-8632-4E20-85E1-547155C2618E" },
    });
    expect(read("A18")).toMatchObject({ type: "Read", object: { form: "reference", type: "Article" } });
    expect(read("A19")).toEqual({
      type: "IntransitiveActivity",
      id: "uri:uuid:AD1D2303-8CA8-416A-BDF7-E8A9FC368C54",
    });
  });

  it("refuses A27 (an HTTPS id) with a typed error", () => {
    const result = readApplicationData(specExample("A27"));
    expect(!result.ok && result.error.code).toBe("https_id");
  });
});
