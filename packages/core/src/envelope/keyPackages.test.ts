import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./base64.js";
import { ALICE, BOB, mlsSamples } from "./fixtures/mls.js";
import { readKeyPackageActivity } from "./keyPackageActivity.js";
import { readKeyPackageObject } from "./keyPackageObject.js";
import { readKeyPackageCollection, readKeyPackagesProperty, readMessagesProperty } from "./keyPackages.js";

const samples = await mlsSamples();
const kpObject = {
  type: "KeyPackage",
  id: `${BOB}/kp/1`,
  attributedTo: BOB,
  content: encodeBase64(samples.bobKeyPackage),
};

describe("readKeyPackagesProperty", () => {
  it("reads an IRI as something to fetch", () => {
    const read = readKeyPackagesProperty({ id: ALICE, keyPackages: `${ALICE}/keyPackages` });
    expect(read.ok && read.value).toEqual({ items: [], next: `${ALICE}/keyPackages` });
  });

  it("reads Bonfire's mls:keyPackages array of links and objects", () => {
    const read = readKeyPackagesProperty({ id: BOB, "mls:keyPackages": [`${BOB}/kp/0`, kpObject] });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.items).toHaveLength(2);
    expect(read.value.items[0]).toEqual({ type: "reference", id: `${BOB}/kp/0` });
    const embedded = read.value.items[1];
    expect(embedded?.type).toBe("embedded");
    if (embedded?.type === "embedded") expect(readKeyPackageObject(embedded.object).ok).toBe(true);
  });

  it("reads a single embedded object", () => {
    const read = readKeyPackagesProperty({ id: BOB, keyPackages: kpObject });
    expect(read.ok && read.value.items.map((item) => item.type)).toEqual(["embedded"]);
  });

  it("follows a collection to its first page, embedded or linked", () => {
    const embedded = readKeyPackagesProperty({
      keyPackages: {
        type: "OrderedCollection",
        id: `${BOB}/kp`,
        first: { type: "OrderedCollectionPage", orderedItems: [kpObject], next: `${BOB}/kp?page=2` },
      },
    });
    expect(embedded.ok && embedded.value).toMatchObject({ id: `${BOB}/kp`, next: `${BOB}/kp?page=2` });
    expect(embedded.ok && embedded.value.items).toHaveLength(1);
    const linked = readKeyPackagesProperty({
      keyPackages: { type: "Collection", id: `${BOB}/kp`, first: `${BOB}/kp?page=1` },
    });
    expect(linked.ok && linked.value).toEqual({ id: `${BOB}/kp`, items: [], next: `${BOB}/kp?page=1` });
  });

  it("follows one embedded first page, not an unbounded chain of them", () => {
    const depth = 50_000;
    const chain = `${'{"type":"OrderedCollection","first":'.repeat(depth)}{}${"}".repeat(depth)}`;
    const read = readKeyPackagesProperty(`{"keyPackages":${chain}}`);
    expect(read.ok && read.value).toEqual({ items: [] });
  });

  it("reads a fetched page with its next link", () => {
    const page = readKeyPackageCollection({
      type: "CollectionPage",
      items: [`${BOB}/kp/3`],
      next: `${BOB}/kp?page=3`,
    });
    expect(page.ok && page.value).toEqual({
      items: [{ type: "reference", id: `${BOB}/kp/3` }],
      next: `${BOB}/kp?page=3`,
    });
  });

  it("refuses an actor without keyPackages and malformed values", () => {
    const none = readKeyPackagesProperty({ id: ALICE });
    expect(!none.ok && none.error.code).toBe("invalid_key_packages");
    const bad = readKeyPackagesProperty({ keyPackages: 42 });
    expect(!bad.ok && bad.error.code).toBe("invalid_key_packages");
    const badItem = readKeyPackagesProperty({ keyPackages: [7] });
    expect(!badItem.ok && badItem.error.code).toBe("invalid_key_packages");
    const notActor = readKeyPackagesProperty("[");
    expect(!notActor.ok && notActor.error.code).toBe("invalid_json");
  });
});

describe("readMessagesProperty", () => {
  it("reads the messages collection as IRI or embedded, and its absence", () => {
    expect(readMessagesProperty({ messages: `${ALICE}/messages` })).toEqual({
      ok: true,
      value: `${ALICE}/messages`,
    });
    expect(readMessagesProperty({ messages: { id: `${ALICE}/m`, type: "OrderedCollection" } })).toEqual({
      ok: true,
      value: `${ALICE}/m`,
    });
    expect(readMessagesProperty({ id: ALICE })).toEqual({ ok: true, value: undefined });
    const bad = readMessagesProperty({ messages: 3 });
    expect(!bad.ok && bad.error.code).toBe("invalid_property");
  });
});

describe("readKeyPackageActivity", () => {
  it("reads Bonfire's Add with an embedded KeyPackage and its Remove matched by content", () => {
    const add = readKeyPackageActivity({ type: "Add", actor: BOB, object: kpObject, target: `${BOB}/kp` });
    expect(add.ok && add.value).toMatchObject({
      type: "Add",
      actor: BOB,
      target: `${BOB}/kp`,
      object: { type: "embedded" },
    });
    const remove = readKeyPackageActivity({
      type: "Remove",
      actor: BOB,
      object: { type: "mls:KeyPackage", "mls:content": kpObject.content },
      target: `${BOB}/kp`,
    });
    expect(remove.ok && remove.value.object.type).toBe("embedded");
  });

  it("needs an embedded object for Create/Update and a target for Add/Remove", () => {
    const create = readKeyPackageActivity({ type: "Create", object: `${BOB}/kp/1` });
    expect(!create.ok && create.error.code).toBe("object_not_embedded");
    const add = readKeyPackageActivity({ type: "Add", object: `${BOB}/kp/1` });
    expect(!add.ok && add.error.code).toBe("invalid_property");
    const like = readKeyPackageActivity({ type: "Like", object: `${BOB}/kp/1` });
    expect(!like.ok && like.error.code).toBe("unsupported_activity");
    const note = readKeyPackageActivity({ type: "Update", object: { type: "Note", content: "hi" } });
    expect(!note.ok && note.error.code).toBe("not_key_package");
  });

  it("reads a Delete of a Tombstone as a reference", () => {
    const read = readKeyPackageActivity({ type: "Delete", object: { type: "Tombstone", id: `${BOB}/kp/1` } });
    expect(read.ok && read.value.object).toEqual({ type: "reference", id: `${BOB}/kp/1` });
  });
});
