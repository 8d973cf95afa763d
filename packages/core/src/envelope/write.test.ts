import { describe, expect, it } from "vitest";
import { privateMessageSchema, welcomeSchema } from "../vocab/schemas.js";
import { encodeBase64 } from "./base64.js";
import { ALICE, BOB, GROUP_ID, mlsSamples } from "./fixtures/mls.js";
import { readKeyPackageObject, writeKeyPackageObject } from "./keyPackageObject.js";
import { readEnvelope } from "./read.js";
import { writeMessageCreate } from "./writeMessage.js";

const samples = await mlsSamples();
const CAROL = "https://third.example/users/carol";

describe("writeMessageCreate", () => {
  const create = writeMessageCreate({
    actor: ALICE,
    recipients: [BOB, CAROL, BOB],
    bytes: samples.applicationMessage,
    context: GROUP_ID,
    activityId: "https://emissary.example/@alice/create/9",
    published: "2026-11-22T04:00:00Z",
    generator: { id: "https://sotto.example/devices/1", name: "sottod" },
  });

  it("writes the conservative shape: every member explicitly, single-string type, summary, MLS context", () => {
    expect(create["@context"]).toEqual([
      "https://www.w3.org/ns/activitystreams",
      "https://purl.archive.org/socialweb/mls",
    ]);
    expect(create.type).toBe("Create");
    expect(create.to).toEqual([BOB, CAROL]);
    expect(create.object).toMatchObject({
      type: "PrivateMessage",
      attributedTo: ALICE,
      to: [BOB, CAROL],
      mediaType: "message/mls",
      encoding: "base64",
      content: encodeBase64(samples.applicationMessage),
      context: GROUP_ID,
      generator: { id: "https://sotto.example/devices/1", type: "Application", name: "sottod" },
    });
    expect(create.object.summary).toMatch(/encrypted/);
    expect(privateMessageSchema.safeParse(create.object).success).toBe(true);
  });

  it("round-trips through the reader, also as JSON text", () => {
    const read = readEnvelope(JSON.parse(JSON.stringify(create)));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value).toMatchObject({
      kind: "private_message",
      actor: ALICE,
      recipients: [BOB, CAROL],
      context: GROUP_ID,
      activityId: "https://emissary.example/@alice/create/9",
      published: "2026-11-22T04:00:00Z",
      generator: "https://sotto.example/devices/1",
      isPublic: false,
    });
    expect(read.value.bytes).toEqual(samples.applicationMessage);
  });

  it("types each object from its wire format", () => {
    const write = (bytes: Uint8Array) =>
      writeMessageCreate({ actor: ALICE, recipients: [BOB], bytes, context: GROUP_ID });
    const welcome = write(samples.welcome);
    expect(welcome.object.type).toBe("Welcome");
    expect(welcomeSchema.safeParse(welcome.object).success).toBe(true);
    expect(write(samples.publicCommit).object.type).toBe("PublicMessage");
    expect(write(samples.groupInfo).object.type).toBe("GroupInfo");
  });

  it("refuses Public, no recipients and non-message bytes with typed errors", () => {
    const base = { actor: ALICE, bytes: samples.welcome, context: GROUP_ID };
    expect(() => writeMessageCreate({ ...base, recipients: [] })).toThrow(
      expect.objectContaining({ code: "invalid_recipients" }),
    );
    expect(() => writeMessageCreate({ ...base, recipients: [BOB, "as:Public"] })).toThrow(
      expect.objectContaining({ code: "addressed_to_public" }),
    );
    expect(() =>
      writeMessageCreate({ ...base, recipients: [BOB], bytes: new Uint8Array([0, 1, 0, 5]) }),
    ).toThrow(expect.objectContaining({ code: "mls_decode_failed" }));
    expect(() => writeMessageCreate({ ...base, recipients: [BOB], bytes: new Uint8Array([1, 2]) })).toThrow(
      expect.objectContaining({ code: "mls_decode_failed" }),
    );
  });
});

describe("writeKeyPackageObject", () => {
  const object = writeKeyPackageObject({
    actor: ALICE,
    keyPackage: samples.aliceKeyPackage,
    generator: { id: "https://sotto.example/devices/1", name: "sottod" },
    id: "https://emissary.example/@alice/keyPackages/7",
  });

  it("writes raw content, Public, the generator and the suite's string name", () => {
    expect(object).toMatchObject({
      type: "KeyPackage",
      attributedTo: ALICE,
      to: "https://www.w3.org/ns/activitystreams#Public",
      mediaType: "message/mls",
      encoding: "base64",
      content: encodeBase64(samples.aliceKeyPackage),
      ciphersuite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
      generator: { id: "https://sotto.example/devices/1", type: "Application", name: "sottod" },
    });
  });

  it("round-trips through readKeyPackageObject with the raw bytes and the decoded KeyPackage", () => {
    const read = readKeyPackageObject(object);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.keyPackageBytes).toEqual(samples.aliceKeyPackage);
    expect(read.value.ciphersuite).toBe("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    expect(
      new TextDecoder().decode(
        read.value.keyPackage.leafNode.credential.credentialType === "basic"
          ? read.value.keyPackage.leafNode.credential.identity
          : new Uint8Array(),
      ),
    ).toBe(ALICE);
    expect(read.value).toMatchObject({ id: object.id, actor: ALICE, isPublic: true });
  });

  it("refuses bytes that are not a raw KeyPackage", () => {
    expect(() =>
      writeKeyPackageObject({ actor: ALICE, keyPackage: samples.welcome, generator: { id: "x" } }),
    ).toThrow(expect.objectContaining({ code: "not_key_package" }));
  });

  it("readKeyPackageObject refuses other MLS content", () => {
    const read = readKeyPackageObject({
      type: "KeyPackage",
      to: BOB,
      content: encodeBase64(samples.welcome),
    });
    expect(!read.ok && read.error.code).toBe("not_key_package");
  });
});
