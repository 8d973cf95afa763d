import { describe, expect, it } from "vitest";
import { checkAuthorship, modifiedObjectId } from "./authorship.js";
import { canonicalApplicationId, newApplicationId } from "./ids.js";
import type { ApplicationActivity, ApplicationData } from "./model.js";
import { readApplicationData } from "./read.js";
import { applicationDataToJson, writeApplicationData } from "./write.js";

const ALICE = "https://emissary.example/@alice";
const BOB = "https://bonfire.example/pub/actors/bob";
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABAQMAAAAl21bKAAAAA1BMVEUAAACnej3aAAAAAXRSTlMAQObYZgAAAApJREFUCNdjYAAAAAIAAeIhvDMAAAAASUVORK5CYII=";

function read(input: unknown): ApplicationData {
  const result = readApplicationData(input);
  if (!result.ok) throw new Error(`unexpected ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function activity(input: unknown): ApplicationActivity {
  const data = read(input);
  if (data.type === "unsupported") throw new Error("unexpectedly unsupported");
  return data;
}

function expectError(input: unknown, code: string) {
  const result = readApplicationData(input);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error.code).toBe(code);
}

/** Read, write, read again: the same value. */
function expectRoundTrip(data: ApplicationActivity) {
  expect(read(writeApplicationData(data))).toEqual(data);
}

describe("readApplicationData: sanitizing", () => {
  it("keeps the allow-listed markup and removes scripts, handlers, images, styles and bad links", () => {
    const note = activity({
      type: "Create",
      id: "urn:uuid:0b7c6f3e-1111-4c1e-9a3b-2b5e3c8d9e01",
      object: {
        type: "Note",
        id: "urn:uuid:0b7c6f3e-2222-4c1e-9a3b-2b5e3c8d9e01",
        content:
          '<p onclick="steal()">Hi <b>there</b><script>alert(1)</script><img src="https://tracker.example/p.png">' +
          '<a href="javascript:alert(1)">x</a> <a href="https://ok.example/" class="c" rel="me">ok</a>' +
          '<span style="color:red">red</span><iframe src="https://evil.example"></iframe></p>',
        summary: "<em>cw</em><style>body{}</style>",
        name: "<b>title</b>",
      },
    });
    const object = note.object;
    expect(object?.form).toBe("embedded");
    if (object?.form !== "embedded") return;
    expect(object.value.content).toBe(
      '<p>Hi <b>there</b><a rel="nofollow noopener noreferrer" target="_blank">x</a> ' +
        '<a href="https://ok.example/" rel="nofollow noopener noreferrer" target="_blank">ok</a><span>red</span></p>',
    );
    expect(object.value.summary).toBe("<em>cw</em>");
    expect(object.value.name).toBe("title");
  });

  it("reduces a reaction to plain text and sanitizes an Announce comment", () => {
    const like = activity({ type: "Like", id: "urn:uuid:1", object: "urn:uuid:2", content: "<b>👍</b>" });
    expect(like.content).toBe("👍");
    const announce = activity({
      type: "Announce",
      id: "urn:uuid:3",
      object: "https://mastodon.example/@carol/1",
      content: "look <script>x</script><i>this</i>",
    });
    expect(announce.content).toBe("look <i>this</i>");
  });

  it("is stable: sanitized output read again is unchanged", () => {
    const first = activity({
      type: "Create",
      id: "urn:uuid:4",
      object: { type: "Note", id: "urn:uuid:5", content: "a &amp; b < c <a href='https://x.example'>l</a>" },
    });
    expectRoundTrip(first);
  });
});

describe("readApplicationData: Emissary", () => {
  it("reads Create{Note} with uri:uuid: ids and inner actor/to/context, and data: URI attachments", () => {
    const data = activity({
      "@context": ["https://www.w3.org/ns/activitystreams"],
      type: "Create",
      id: "uri:uuid:7a3c2d1e-0000-4000-8000-000000000001",
      actor: ALICE,
      to: [BOB],
      context: "uri:uuid:group",
      object: {
        type: "Note",
        id: "uri:uuid:7a3c2d1e-0000-4000-8000-000000000002",
        actor: ALICE,
        to: [BOB],
        context: "uri:uuid:group",
        content: "<p>photo</p>",
        inReplyTo: "uri:uuid:7a3c2d1e-0000-4000-8000-000000000000",
        tag: [{ type: "Mention", href: BOB, name: "@bob@bonfire.example" }],
        attachment: [
          {
            type: "Image",
            mediaType: "image/png",
            url: `data:image/png;base64,${PNG}`,
            width: 1,
            height: 1,
            blurhash: "L00000",
          },
          { type: "Document", url: "data:text/plain,hello%20world" },
          { type: "Link", href: "https://example.com/x" },
        ],
      },
    });
    expect(data).toMatchObject({
      type: "Create",
      actor: ALICE,
      id: "uri:uuid:7a3c2d1e-0000-4000-8000-000000000001",
    });
    if (data.object?.form !== "embedded") throw new Error("not embedded");
    const note = data.object.value;
    expect(note.inReplyTo).toBe("uri:uuid:7a3c2d1e-0000-4000-8000-000000000000");
    expect(note.tag).toEqual([{ type: "Mention", href: BOB, name: "@bob@bonfire.example" }]);
    expect(note.attachment).toHaveLength(2);
    expect(note.unsupportedAttachments).toBe(1);
    expect(note.attachment?.[0]).toMatchObject({ type: "Image", width: 1, height: 1, blurhash: "L00000" });
    expect(note.attachment?.[0]?.media?.mediaType).toBe("image/png");
    expect(Buffer.from(note.attachment?.[0]?.media?.bytes ?? []).toString("base64")).toBe(PNG);
    expect(new TextDecoder().decode(note.attachment?.[1]?.media?.bytes)).toBe("hello world");
    expect(note.attachment?.[1]?.media?.mediaType).toBe("text/plain");
    // The writer sends what the profile has: the Link attachment is not written back.
    const { unsupportedAttachments: _, ...supported } = note;
    expectRoundTrip({ ...data, object: { form: "embedded", value: supported } });
  });

  it("reads reactions, their Undo, and Acknowledge receipts", () => {
    const like = activity({
      type: "Like",
      id: "uri:uuid:l1",
      actor: ALICE,
      object: "uri:uuid:n1",
      content: "🎉",
    });
    expect(like).toEqual({
      type: "Like",
      id: "uri:uuid:l1",
      actor: ALICE,
      content: "🎉",
      object: { form: "reference", id: "uri:uuid:n1" },
    });
    const undo = activity({
      type: "Undo",
      id: "uri:uuid:u1",
      object: { type: "Like", id: "uri:uuid:l1", object: "uri:uuid:n1" },
    });
    expect(undo.object).toEqual({
      form: "activity",
      value: { type: "Like", id: "uri:uuid:l1", object: "uri:uuid:n1" },
    });
    // Emissary's Undo names its Like by actor, object and content, without the Like's id.
    const emissaryUndo = activity({
      type: "Undo",
      id: "uri:uuid:u2",
      actor: ALICE,
      object: { type: "Like", actor: ALICE, object: "uri:uuid:n1", content: "🎉" },
    });
    expect(emissaryUndo.object).toEqual({
      form: "activity",
      value: { type: "Like", actor: ALICE, object: "uri:uuid:n1", content: "🎉" },
    });
    expectError(
      { type: "Undo", id: "uri:uuid:u3", object: { type: "Like", actor: ALICE } },
      "missing_object",
    );
    const ack = activity({ type: "Acknowledge", id: "uri:uuid:a1", actor: ALICE, object: "uri:uuid:n1" });
    expect(ack.object).toEqual({ form: "reference", id: "uri:uuid:n1" });
    for (const data of [like, undo, emissaryUndo, ack]) expectRoundTrip(data);
  });

  it("reads the group-name Update of an emissary:Context as the title; keeps Failure receipts as unsupported", () => {
    const settings = read({
      type: "Update",
      id: "uri:uuid:s1",
      object: { type: "emissary:Context", id: "uri:uuid:g", name: "Team" },
    });
    expect(settings).toMatchObject({
      type: "Update",
      id: "uri:uuid:s1",
      object: { form: "context", value: { id: "uri:uuid:g", name: "Team" } },
    });
    const failure = read({ type: "Failure", id: "uri:uuid:f1", object: "uri:uuid:n1" });
    expect(failure).toMatchObject({ type: "unsupported", originalType: ["Failure"] });
    if (failure.type === "unsupported") expect(failure.json.object).toBe("uri:uuid:n1");
  });
});

describe("readApplicationData: Bonfire receipts and media", () => {
  it("reads Read, Listen and View", () => {
    for (const type of ["Read", "Listen", "View"]) {
      const data = activity({ type, id: `urn:uuid:${type}`, object: { type: "Audio", id: "urn:uuid:m1" } });
      expect(data).toEqual({
        type,
        id: `urn:uuid:${type}`,
        object: { form: "reference", id: "urn:uuid:m1", type: "Audio" },
      });
    }
  });

  it("reads inline base64 Audio and Video with their mediaType", () => {
    const data = activity({
      type: "Create",
      id: "urn:uuid:c1",
      object: {
        type: "Audio",
        id: "urn:uuid:o1",
        mediaType: "audio/ogg",
        encoding: "base64",
        content: "T2dnUw==",
      },
    });
    if (data.object?.form !== "embedded") throw new Error("not embedded");
    expect(data.object.value.media?.mediaType).toBe("audio/ogg");
    expect(new TextDecoder().decode(data.object.value.media?.bytes)).toBe("OggS");
    expectRoundTrip(data);
  });
});

describe("readApplicationData: ids", () => {
  it("refuses HTTPS ids, except for an Announce's object", () => {
    expectError(
      { type: "Create", id: "https://a.example/1", object: { type: "Note", id: "urn:uuid:1" } },
      "https_id",
    );
    expectError(
      { type: "Create", id: "urn:uuid:1", object: { type: "Note", id: "https://a.example/n" } },
      "https_id",
    );
    expectError({ type: "Like", id: "urn:uuid:1", object: "https://a.example/n" }, "https_id");
    const announced = activity({
      type: "Announce",
      id: "urn:uuid:2",
      object: { type: "Note", id: "https://a.example/n", content: "hi" },
    });
    expect(announced.object?.form === "embedded" && announced.object.value.id).toBe("https://a.example/n");
    const referenced = activity({ type: "Announce", id: "urn:uuid:3", object: "https://a.example/n" });
    expect(referenced.object).toEqual({ form: "reference", id: "https://a.example/n" });
  });

  it("treats uri:uuid: and urn:uuid: spellings as one id and makes fresh urn:uuid: ids", () => {
    expect(canonicalApplicationId("uri:uuid:CFCD9E78-03E4-404E-A7A8-3E17A78EC4E1")).toBe(
      canonicalApplicationId("urn:uuid:cfcd9e78-03e4-404e-a7a8-3e17a78ec4e1"),
    );
    expect(newApplicationId()).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(newApplicationId()).not.toBe(newApplicationId());
  });
});

describe("readApplicationData: unknown and malformed data", () => {
  it("keeps unknown types as unsupported with the JSON", () => {
    const question = read({ type: "Question", id: "urn:uuid:q", oneOf: [] });
    expect(question).toMatchObject({ type: "unsupported", originalType: ["Question"], id: "urn:uuid:q" });
    const create = read({ type: "Create", id: "urn:uuid:c", object: { type: "Question", id: "urn:uuid:q" } });
    expect(create.type).toBe("unsupported");
  });

  it("returns typed errors for malformed data", () => {
    expectError(new Uint8Array([0xff, 0xfe]), "invalid_utf8");
    expectError("{", "invalid_json");
    expectError("[]", "not_an_object");
    expectError({ id: "urn:uuid:1" }, "invalid_property");
    expectError({ type: "Create", id: "urn:uuid:1" }, "missing_object");
    expectError({ type: "Create", id: "urn:uuid:1", object: "urn:uuid:2" }, "missing_object");
    expectError(
      { type: "Create", id: "urn:uuid:1", object: { type: "Note", content: "no id" } },
      "missing_id",
    );
    expectError(
      { type: "Create", id: "urn:uuid:1", object: { type: "Image", id: "urn:uuid:2", content: "%%%" } },
      "invalid_media",
    );
    expectError(
      {
        type: "Create",
        id: "urn:uuid:1",
        object: {
          type: "Note",
          id: "urn:uuid:2",
          attachment: { type: "Image", url: "data:image/png;base64,%%" },
        },
      },
      "invalid_media",
    );
    expectError({ type: "Like", id: "urn:uuid:1", object: [] }, "missing_object");
    expectError({ type: "Delete", id: "urn:uuid:1", object: { type: "Note" } }, "missing_object");
  });
});

describe("readApplicationData: hostile sizes and nesting", () => {
  it("reads one level of attachments and counts nested ones as unsupported, however deep", () => {
    // Built as text: JSON.stringify itself would overflow the stack at this depth.
    const depth = 20_000;
    const attachment = `${'{"type":"Note","attachment":'.repeat(depth)}{"type":"Image","content":"AAAA"}${"}".repeat(depth)}`;
    const data = activity(
      `{"type":"Create","id":"urn:uuid:1","object":{"type":"Note","id":"urn:uuid:2","attachment":${attachment}}}`,
    );
    if (data.object?.form !== "embedded") throw new Error("not embedded");
    expect(data.object.value.attachment).toHaveLength(1);
    expect(data.object.value.attachment?.[0]?.unsupportedAttachments).toBe(1);
  });

  it("refuses HTML fields too long to sanitize in bounded time; a message's content is kept cut, saying so", () => {
    const nested = `${"<b>".repeat(40_000)}x`;
    const note = (field: Record<string, unknown>) => ({
      type: "Create",
      id: "urn:uuid:1",
      object: { type: "Note", id: "urn:uuid:2", ...field },
    });
    const cut = activity(note({ content: nested }));
    if (cut.object?.form !== "embedded") throw new Error("not embedded");
    expect(cut.object.value.contentLength).toBe(120_001);
    expect(cut.object.value.content?.startsWith("<b><b>")).toBe(true);
    const huge = activity(note({ content: `<p>${"😀".repeat(1_000_000)}</p><script>x()</script>` }));
    if (huge.object?.form !== "embedded") throw new Error("not embedded");
    expect(huge.object.value.contentLength).toBe(2_000_027);
    // Cut on a whole character, and the unclosed <p> closed by the sanitiser.
    expect(huge.object.value.content).toBe(`<p>${"😀".repeat(49_998)}</p>`);
    expect(applicationDataToJson(huge)).not.toHaveProperty("object.contentLength");
    expectError(note({ summary: nested }), "too_large");
    expectError(note({ tag: [{ type: "Hashtag", name: nested }] }), "too_large");
    expectError({ type: "Like", id: "urn:uuid:1", object: "urn:uuid:2", content: nested }, "too_large");
    const long = activity(note({ content: `<p>${"a".repeat(90_000)}</p>` }));
    expect(long.object?.form === "embedded" && long.object.value.content?.length).toBe(90_007);
  });
});

describe("readApplicationData: junk in optional fields, and the limits the API shares", () => {
  const note = (fields: Record<string, unknown>, activityFields: Record<string, unknown> = {}) => ({
    type: "Create",
    id: "uri:uuid:c",
    ...activityFields,
    object: { type: "Note", id: "uri:uuid:n", ...fields },
  });

  it("reads empty strings and values of the wrong type in optional fields as absent", () => {
    // Emissary sends `"inReplyTo": ""` on every Note that is not a reply.
    const junk = activity(
      note(
        {
          inReplyTo: "",
          attributedTo: "",
          name: 5,
          summary: "<script>x</script>",
          content: 5,
          published: "yesterday",
          updated: "",
          mediaType: "",
          tag: ["", { type: "Mention", name: "" }],
          width: -1,
        },
        { id: "", actor: [], published: "" },
      ),
    );
    expect(junk).toEqual({
      type: "Create",
      object: { form: "embedded", value: { type: "Note", id: "uri:uuid:n", tag: [{ type: "Mention" }] } },
    });
    const like = activity({ type: "Like", id: "uri:uuid:l", object: "uri:uuid:n", content: "<b></b>" });
    expect(like.content).toBeUndefined();
    expectError(note({ id: "" }), "missing_id");
  });

  it("refuses ids, names, media types, reactions and inline media beyond the API's limits", () => {
    const long = (n: number) => `urn:uuid:${"a".repeat(n - 9)}`;
    expect(activity(note({ inReplyTo: long(2048) })).object).toMatchObject({
      value: { inReplyTo: long(2048) },
    });
    expectError(note({ inReplyTo: long(2049) }), "too_large");
    expectError(note({ id: long(2049) }), "too_large");
    expectError({ type: "Like", id: "uri:uuid:l", object: long(2049) }, "too_large");
    expectError(
      { type: "Like", id: "uri:uuid:l", object: "uri:uuid:n", content: "x".repeat(65) },
      "too_large",
    );
    const image = (fields: Record<string, unknown>) => ({ type: "Image", content: PNG, ...fields });
    expectError(note({ attachment: [image({ name: "n".repeat(1025) })] }), "too_large");
    expectError(note({ attachment: [image({ mediaType: `image/${"p".repeat(250)}` })] }), "too_large");
    expectError(note({ attachment: Array.from({ length: 17 }, () => image({})) }), "too_large");
    const bytes = (n: number) => Buffer.alloc(n, 7).toString("base64");
    // 540 kB in one attachment, or 2 x 300 kB: more than the 512 KiB a message may carry (issue 14, point 4).
    expectError(note({ attachment: [image({ content: bytes(540_000) })] }), "too_large");
    expectError(
      note({ attachment: [image({ content: bytes(300_000) }), image({ content: bytes(300_000) })] }),
      "too_large",
    );
    const fits = activity(note({ attachment: [image({ content: bytes(512 * 1024) })] }));
    expect(fits.object?.form === "embedded" && fits.object.value.attachment?.[0]?.media?.bytes.length).toBe(
      512 * 1024,
    );
  });
});

describe("checkAuthorship", () => {
  const update = activity({
    type: "Update",
    id: "urn:uuid:u",
    object: { type: "Note", id: "urn:uuid:n", content: "edited" },
  });
  const del = activity({ type: "Delete", id: "urn:uuid:d", object: "urn:uuid:n" });
  const undo = activity({ type: "Undo", id: "urn:uuid:x", object: { type: "Like", id: "urn:uuid:l" } });
  const like = activity({ type: "Like", id: "urn:uuid:l", object: "urn:uuid:n", content: "❤️" });

  it("names the object an Update, Delete or Undo changes", () => {
    expect([update, del, undo, like].map(modifiedObjectId)).toEqual([
      "urn:uuid:n",
      "urn:uuid:n",
      "urn:uuid:l",
      undefined,
    ]);
  });

  it("lets only the original author Update, Delete or Undo", () => {
    for (const data of [update, del, undo]) {
      expect(checkAuthorship(data, ALICE, ALICE).ok).toBe(true);
      const other = checkAuthorship(data, BOB, ALICE);
      expect(!other.ok && other.error.code).toBe("not_author");
      const unknown = checkAuthorship(data, ALICE, undefined);
      expect(!unknown.ok && unknown.error.code).toBe("original_unknown");
    }
  });

  it("lets anyone react to anyone's message", () => {
    expect(checkAuthorship(like, BOB, ALICE).ok).toBe(true);
  });
});

describe("writeApplicationData", () => {
  it("writes the spec's form: AS2 context, base64 content with mediaType for media", () => {
    const json = applicationDataToJson({
      type: "Create",
      id: "urn:uuid:w1",
      object: {
        form: "embedded",
        value: {
          type: "Image",
          id: "urn:uuid:w2",
          media: { mediaType: "image/png", bytes: Buffer.from(PNG, "base64") },
        },
      },
    });
    expect(json).toEqual({
      "@context": "https://www.w3.org/ns/activitystreams",
      type: "Create",
      id: "urn:uuid:w1",
      object: { type: "Image", id: "urn:uuid:w2", content: PNG, mediaType: "image/png", encoding: "base64" },
    });
  });
});
