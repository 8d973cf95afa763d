import { describe, expect, it } from "vitest";
import { checkAuthorship } from "./authorship.js";
import { readApplicationData } from "./read.js";
import { applicationDataToJson, writeApplicationData } from "./write.js";

const GROUP = "urn:uuid:5b2a1f4e-8c3d-4e5f-9a0b-1c2d3e4f5a6b";
const ALICE = "https://a.example/users/alice";

function readTitle(input: unknown) {
  const result = readApplicationData(input);
  if (!result.ok) throw new Error(`unexpected ${result.error.code}`);
  const data = result.value;
  if (data.type !== "Update" || data.object?.form !== "context") throw new Error(`not a title: ${data.type}`);
  return data.object.value;
}

describe("a conversation's title (Update of an emissary:Context)", () => {
  it("reads Emissary's own shape, its private fields left out", () => {
    // As Emissary's syncGroup sends it (name, description, stateId, tag, unread beside the group id).
    const emissary = {
      to: [ALICE],
      actor: ALICE,
      type: "Update",
      object: {
        id: "uri:uuid:2f0e",
        type: "emissary:Context",
        name: "Book club",
        description: "",
        stateId: "ACTIVE",
        tag: ["x"],
        unread: true,
      },
    };
    expect(readTitle(emissary)).toEqual({ id: "uri:uuid:2f0e", name: "Book club" });
  });

  it("accepts the variants: id from context, type in an array, no name (no title), markup stripped", () => {
    expect(
      readTitle({
        type: "Update",
        object: { type: ["Object", "emissary:Context"], context: GROUP, name: "Hi" },
      }),
    ).toEqual({ id: GROUP, name: "Hi" });
    expect(readTitle({ type: "Update", object: { type: "emissary:Context", id: GROUP } })).toEqual({
      id: GROUP,
      name: "",
    });
    expect(
      readTitle({ type: "Update", object: { type: "emissary:Context", name: "<b>Plans</b> " } }),
    ).toEqual({
      name: "Plans",
    });
  });

  it("refuses a title over the limit and a name that is not text", () => {
    const long = readApplicationData({
      type: "Update",
      object: { type: "emissary:Context", id: GROUP, name: "x".repeat(257) },
    });
    expect(!long.ok && long.error.code).toBe("too_large");
    const notText = readApplicationData({ type: "Update", object: { type: "emissary:Context", name: 7 } });
    expect(!notText.ok && notText.error.code).toBe("invalid_property");
  });

  it("writes Emissary's shape (id and context = the group id) and reads it back", () => {
    const activity = {
      type: "Update" as const,
      id: "urn:uuid:0b1c",
      actor: ALICE,
      object: { form: "context" as const, value: { id: GROUP, name: "Trip" } },
    };
    expect(applicationDataToJson(activity).object).toEqual({
      type: "emissary:Context",
      id: GROUP,
      context: GROUP,
      name: "Trip",
    });
    expect(readTitle(writeApplicationData(activity))).toEqual({ id: GROUP, name: "Trip" });
  });

  it("lets any member change it (no author rule)", () => {
    const result = readApplicationData({ type: "Update", object: { type: "emissary:Context", name: "T" } });
    if (!result.ok) throw new Error("unreadable");
    expect(checkAuthorship(result.value, ALICE, undefined).ok).toBe(true);
  });

  it("an Update of another unknown object type stays unsupported", () => {
    const result = readApplicationData({
      type: "Update",
      object: { type: "Collection", id: GROUP, name: "T" },
    });
    expect(result.ok && result.value.type).toBe("unsupported");
  });
});
