import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./base64.js";
import { ALICE, BOB, GROUP_ID, mlsSamples } from "./fixtures/mls.js";
import { readEnvelope } from "./read.js";

const AS = "https://www.w3.org/ns/activitystreams";
const MLS = "https://purl.archive.org/socialweb/mls";
const samples = await mlsSamples();

/** The Create envelope Emissary sends (peers-on-the-wire.md): no summary, generator or conversation. */
function emissaryCreate(type: string, bytes: Uint8Array) {
  return {
    "@context": [AS, MLS],
    type: "Create",
    id: "https://emissary.example/@alice/outbox/1",
    actor: ALICE,
    to: [BOB],
    instrument: "https://emissary.example/@alice/devices/laptop",
    context: GROUP_ID,
    object: {
      type,
      attributedTo: ALICE,
      to: [BOB],
      content: encodeBase64(bytes),
      context: GROUP_ID,
      mediaType: "message/mls",
      encoding: "base64",
    },
  };
}

function expectError(input: unknown, code: string) {
  const result = readEnvelope(input);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error.code).toBe(code);
}

describe("readEnvelope: Emissary", () => {
  it("reads a private message in a Create, with every envelope field", () => {
    const result = readEnvelope(emissaryCreate("PrivateMessage", samples.applicationMessage));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      kind: "private_message",
      objectType: "PrivateMessage",
      activityType: "Create",
      actor: ALICE,
      recipients: [BOB],
      context: GROUP_ID,
      activityId: "https://emissary.example/@alice/outbox/1",
      instrument: "https://emissary.example/@alice/devices/laptop",
      isPublic: false,
    });
    expect(result.value.bytes).toEqual(samples.applicationMessage);
    expect(result.value.message.wireformat).toBe("mls_private_message");
  });

  it("dispatches on the MLS wire format: commits and proposals typed GroupInfo", () => {
    const commit = readEnvelope(emissaryCreate("GroupInfo", samples.removeCommit));
    const proposal = readEnvelope(emissaryCreate("GroupInfo", samples.removeProposal));
    expect(commit.ok && commit.value.kind).toBe("private_message");
    expect(commit.ok && commit.value.objectType).toBe("GroupInfo");
    expect(proposal.ok && proposal.value.kind).toBe("private_message");
    const publicCommit = readEnvelope(emissaryCreate("GroupInfo", samples.publicCommit));
    expect(publicCommit.ok && publicCommit.value.kind).toBe("public_message");
  });

  it("reads the Welcome sent to the new member", () => {
    const result = readEnvelope(emissaryCreate("Welcome", samples.welcome));
    expect(result.ok && result.value.kind).toBe("welcome");
  });

  it("answers Emissary's unencrypted Leave with a typed error the daemon can skip", () => {
    expectError({ type: "Leave", actor: ALICE, to: ALICE, object: GROUP_ID }, "unsupported_activity");
  });

  it("names the wrapped object's property in error paths", () => {
    const create = emissaryCreate("PrivateMessage", samples.applicationMessage);
    const read = readEnvelope({ ...create, object: { ...create.object, content: "%%" } });
    expect(!read.ok && read.error.path).toBe("object.content");
  });

  it("reads a KeyPackage updated in place (same id, new content)", () => {
    const update = {
      "@context": [AS, MLS],
      type: "Update",
      actor: ALICE,
      to: "Public",
      object: {
        id: "https://emissary.example/@alice/keyPackages/1",
        type: "KeyPackage",
        to: "Public",
        attributedTo: ALICE,
        mediaType: "message/mls",
        encoding: "base64",
        content: encodeBase64(samples.aliceKeyPackage),
        summary: "MLS KeyPackage",
        generator: {
          id: "https://emissary.example/@alice/devices/laptop",
          type: "Application",
          name: "Emissary",
        },
        ciphersuite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
      },
    };
    const result = readEnvelope(update);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      kind: "key_package",
      activityType: "Update",
      objectId: "https://emissary.example/@alice/keyPackages/1",
      generator: "https://emissary.example/@alice/devices/laptop",
      ciphersuite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
      isPublic: true,
      recipients: [],
    });
  });
});

describe("readEnvelope: Bonfire", () => {
  it("reads a bare PrivateMessage with summary, context and inReplyTo", () => {
    const bare = {
      type: "PrivateMessage",
      attributedTo: BOB,
      to: [ALICE],
      summary: "Encrypted message",
      context: "https://bonfire.example/pub/objects/group-1",
      inReplyTo: "https://bonfire.example/pub/objects/group-1",
      mediaType: "message/mls",
      encoding: "base64",
      content: encodeBase64(samples.applicationMessage),
    };
    const result = readEnvelope(bare);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      kind: "private_message",
      actor: BOB,
      recipients: [ALICE],
      context: "https://bonfire.example/pub/objects/group-1",
      inReplyTo: "https://bonfire.example/pub/objects/group-1",
      summary: "Encrypted message",
    });
    expect(result.value.activityType).toBeUndefined();
  });

  it("reads bare Welcome and GroupInfo objects sent to specific recipients", () => {
    for (const [type, bytes, kind] of [
      ["Welcome", samples.welcome, "welcome"],
      ["GroupInfo", samples.groupInfo, "group_info"],
    ] as const) {
      const result = readEnvelope({ type, attributedTo: BOB, to: ALICE, content: encodeBase64(bytes) });
      expect(result.ok && result.value.kind).toBe(kind);
    }
  });

  it("reads prefixed types and prefixed property names", () => {
    for (const type of [
      "mls:KeyPackage",
      ["Object", "mls:KeyPackage"],
      `${MLS}#KeyPackage`,
      ["Object", "KeyPackage"],
    ]) {
      const result = readEnvelope({
        type,
        attributedTo: BOB,
        to: "as:Public",
        "mls:encoding": "base64",
        "mls:content": encodeBase64(samples.bobKeyPackage),
        "mls:ciphersuite": { identifier: 1, name: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" },
      });
      expect(result.ok && result.value.kind, JSON.stringify(type)).toBe("key_package");
      expect(result.ok && result.value.objectType).toBe("KeyPackage");
    }
  });

  it("reads a KeyPackage published with Add {object, target}", () => {
    const add = {
      type: "Add",
      actor: BOB,
      to: `${AS}#Public`,
      target: `${BOB}/keyPackages`,
      object: { type: "KeyPackage", attributedTo: BOB, content: encodeBase64(samples.bobKeyPackage) },
    };
    const result = readEnvelope(add);
    expect(result.ok && result.value.activityType).toBe("Add");
    expect(result.ok && result.value.kind).toBe("key_package");
  });

  it("refuses an AP GroupInfo whose content is a raw ratchet tree, with a typed error", () => {
    // What older Bonfire clients sent after a Welcome: not an MLSMessage at all.
    const tree = samples.welcome.subarray(40, 200);
    expectError(
      { type: "GroupInfo", attributedTo: BOB, to: ALICE, content: encodeBase64(tree) },
      "mls_decode_failed",
    );
  });
});

describe("readEnvelope: KeyPackage content", () => {
  it("accepts raw and framed KeyPackages and frames the bytes it returns", () => {
    const framed = new Uint8Array([0, 1, 0, 5, ...samples.aliceKeyPackage]);
    for (const bytes of [samples.aliceKeyPackage, framed]) {
      const result = readEnvelope({ type: "KeyPackage", to: "Public", content: encodeBase64(bytes) });
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.value.bytes).toEqual(framed);
    }
  });

  it("accepts a raw KeyPackage only where the AP type says KeyPackage", () => {
    expectError(
      { type: "Welcome", to: ALICE, content: encodeBase64(samples.aliceKeyPackage) },
      "mls_decode_failed",
    );
  });

  it("refuses a declared ciphersuite that the KeyPackage does not use", () => {
    const object = {
      type: "KeyPackage",
      to: "Public",
      content: encodeBase64(samples.aliceKeyPackage),
      ciphersuite: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
    };
    expectError(object, "ciphersuite_mismatch");
    expectError({ ...object, ciphersuite: "MLS_999_ROT13" }, "unknown_ciphersuite");
  });
});

describe("readEnvelope: addressing", () => {
  it("refuses MLS messages addressed to Public in any of its three spellings", () => {
    for (const pub of ["Public", "as:Public", `${AS}#Public`]) {
      const create = emissaryCreate("PrivateMessage", samples.applicationMessage);
      expectError({ ...create, cc: [pub] }, "addressed_to_public");
    }
  });

  it("refuses MLS messages addressed to a collection", () => {
    const create = emissaryCreate("PrivateMessage", samples.applicationMessage);
    expectError(
      { ...create, to: [BOB, { id: `${ALICE}/followers`, type: "OrderedCollection" }] },
      "addressed_to_collection",
    );
    const known = readEnvelope(
      { ...create, cc: `${ALICE}/followers` },
      { isCollection: (id) => id.endsWith("/followers") },
    );
    expect(!known.ok && known.error.code).toBe("addressed_to_collection");
  });

  it("merges and deduplicates the audience of activity and object", () => {
    const create = emissaryCreate("PrivateMessage", samples.applicationMessage);
    const result = readEnvelope({ ...create, to: [BOB, ALICE], cc: { id: "https://third.example/carol" } });
    expect(result.ok && result.value.recipients).toEqual([BOB, ALICE, "https://third.example/carol"]);
  });
});

describe("readEnvelope: malformed input", () => {
  const create = emissaryCreate("PrivateMessage", samples.applicationMessage);
  const withObject = (patch: Record<string, unknown>) => ({
    ...create,
    object: { ...create.object, ...patch },
  });

  it("names what is wrong with a typed error", () => {
    expectError("{ not json", "invalid_json");
    expectError(42, "not_an_object");
    expectError(null, "not_an_object");
    expectError(["Create"], "not_an_object");
    expectError({ ...create, type: "Like" }, "unsupported_activity");
    expectError({ ...create, object: "https://emissary.example/objects/1" }, "object_not_embedded");
    expectError({ ...create, object: [create.object, create.object] }, "invalid_property");
    expectError(withObject({ type: "Note" }), "not_mls_object");
    expectError(withObject({ encoding: "hex" }), "unsupported_encoding");
    expectError(withObject({ mediaType: "text/plain" }), "unsupported_media_type");
    expectError(withObject({ content: "!!!not base64!!!" }), "invalid_base64");
    expectError(withObject({ content: 17 }), "invalid_property");
    expectError(withObject({ content: undefined }), "invalid_property");
    expectError(withObject({ attributedTo: BOB }), "actor_mismatch");
    expectError(withObject({ to: [17] }), "invalid_property");
    expectError({ ...create, to: [17] }, "invalid_recipients");
    expectError({}, "not_mls_object");
  });

  it("rejects MLS bytes with trailing garbage", () => {
    const bytes = new Uint8Array([...samples.applicationMessage, 0]);
    expectError(withObject({ content: encodeBase64(bytes) }), "mls_decode_failed");
  });

  it("reads JSON text as well as parsed JSON", () => {
    const result = readEnvelope(JSON.stringify(create));
    expect(result.ok && result.value.kind).toBe("private_message");
  });
});
