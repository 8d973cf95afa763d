// The spec's own JSON examples (fixtures/spec-examples.md, verbatim), each through the matching reader.
// Broken in the spec: A1 (trailing comma after the object's `to`) and A4 (unterminated string `"base64,`) are
// not JSON; every MLS object example carries a placeholder (`[base64-encoded MLSMessage]`) instead of base64
// content, so those are read verbatim (a typed invalid_base64 error) and again with real MLS bytes of the
// kind they describe; A29's caption is copied from the keyPackages section, its JSON is a KeyPackage object.
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./base64.js";
import { GROUP_ID, type MlsSamples, mlsSamples } from "./fixtures/mls.js";
import { specExample, specExamples } from "./fixtures/specExamples.js";
import { readKeyPackageActivity } from "./keyPackageActivity.js";
import { readKeyPackageObject, writeKeyPackageObject } from "./keyPackageObject.js";
import { readKeyPackagesProperty, readMessagesProperty } from "./keyPackages.js";
import { readEnvelope } from "./read.js";
import { writeMessageCreate } from "./writeMessage.js";

const samples = await mlsSamples();

const NOT_JSON = ["A1", "A4"];
/** MLS object examples: the real bytes that stand in for the placeholder, and the kind they decode to. */
const MLS_OBJECTS: Record<string, { bytes: (s: MlsSamples) => Uint8Array; kind: string }> = {
  A2: { bytes: (s) => s.applicationMessage, kind: "private_message" },
  A22: { bytes: (s) => s.publicCommit, kind: "public_message" },
  A23: { bytes: (s) => s.applicationMessage, kind: "private_message" },
  A24: { bytes: (s) => s.aliceKeyPackage, kind: "key_package" },
  A25: { bytes: (s) => s.groupInfo, kind: "group_info" },
  A26: { bytes: (s) => s.welcome, kind: "welcome" },
  A29: { bytes: (s) => s.p256KeyPackage, kind: "key_package" },
  A31: { bytes: (s) => s.applicationMessage, kind: "private_message" },
};
const ACTORS_WITH_KEY_PACKAGES = ["A3", "A20", "A21", "A28"];
const ACTORS_WITH_MESSAGES = ["A30"];
const KEY_PACKAGE_ACTIVITIES = ["A5", "A6", "A7"];
/** Read by the application-data parser: see src/appdata/specExamples.test.ts. */
const APPLICATION_DATA = [
  "A8",
  "A9",
  "A10",
  "A11",
  "A12",
  "A13",
  "A14",
  "A15",
  "A16",
  "A17",
  "A18",
  "A19",
  "A27",
];

type Json = Record<string, unknown>;
const parse = (label: string) => JSON.parse(specExample(label)) as Json;

function withContent(label: string, content: string): Json {
  const example = parse(label);
  if (example.type === "Create") return { ...example, object: { ...(example.object as Json), content } };
  return { ...example, content };
}

describe("spec examples", () => {
  it("covers every example in the file", () => {
    const covered = [
      ...NOT_JSON,
      ...Object.keys(MLS_OBJECTS),
      ...ACTORS_WITH_KEY_PACKAGES,
      ...ACTORS_WITH_MESSAGES,
      ...KEY_PACKAGE_ACTIVITIES,
      ...APPLICATION_DATA,
    ];
    expect([...specExamples().keys()].sort()).toEqual(covered.sort());
  });

  it.each(NOT_JSON)("%s is not JSON and yields invalid_json", (label) => {
    expect(() => JSON.parse(specExample(label))).toThrow();
    const read = readEnvelope(specExample(label));
    expect(!read.ok && read.error.code).toBe("invalid_json");
  });

  it.each(Object.keys(MLS_OBJECTS))("%s verbatim has placeholder content: invalid_base64", (label) => {
    const read = readEnvelope(specExample(label));
    expect(!read.ok && read.error.code).toBe("invalid_base64");
  });

  it.each(Object.entries(MLS_OBJECTS))(
    "%s with real MLS bytes reads and round-trips",
    (label, { bytes, kind }) => {
      const example = parse(label);
      const object = (example.type === "Create" ? example.object : example) as Json;
      const input = withContent(label, encodeBase64(bytes(samples)));
      const read = readEnvelope(input);
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      const envelope = read.value;
      expect(envelope.kind).toBe(kind);
      expect(envelope.actor).toBe(example.actor ?? object.attributedTo);
      expect(envelope.objectId).toBe(object.id);
      expect(envelope.context).toBe(object.context);
      expect(envelope.conversation).toBe(object.conversation);
      expect(envelope.summary).toBe(object.summary);
      expect(envelope.generator).toBe((object.generator as Json | undefined)?.id);
      expect(envelope.isPublic).toBe(kind === "key_package");

      if (kind === "key_package") {
        const keyPackage = readKeyPackageObject(input);
        expect(keyPackage.ok).toBe(true);
        if (!keyPackage.ok) return;
        expect(keyPackage.value.ciphersuite).toBe(
          object.ciphersuite ?? "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
        );
        const written = writeKeyPackageObject({
          actor: envelope.actor ?? "",
          keyPackage: keyPackage.value.keyPackageBytes,
          generator: { id: envelope.generator ?? "" },
          id: envelope.objectId,
        });
        const again = readKeyPackageObject(written);
        expect(again.ok && again.value.keyPackageBytes).toEqual(keyPackage.value.keyPackageBytes);
        expect(again.ok && again.value.id).toBe(envelope.objectId);
        return;
      }
      expect(envelope.recipients).toEqual([object.to as string[] | string].flat());
      const written = writeMessageCreate({
        actor: envelope.actor ?? "",
        recipients: envelope.recipients,
        bytes: envelope.bytes,
        context: envelope.context ?? GROUP_ID,
        objectId: envelope.objectId,
        activityId: envelope.activityId,
      });
      const again = readEnvelope(written);
      expect(again.ok).toBe(true);
      if (!again.ok) return;
      expect(again.value).toMatchObject({
        kind: envelope.kind,
        actor: envelope.actor,
        recipients: envelope.recipients,
        objectId: envelope.objectId,
        activityId: envelope.activityId,
      });
      expect(again.value.bytes).toEqual(envelope.bytes);
    },
  );

  it("reads the keyPackages of A3 (collection), A20/A21 (arrays) and A28 (IRI)", () => {
    const a3 = readKeyPackagesProperty(specExample("A3"));
    expect(a3.ok && a3.value).toEqual({
      id: "https://social.example/user/example1/keyPackages",
      items: [
        { type: "reference", id: "https://social.example/user/example1/keyPackage/A" },
        { type: "reference", id: "https://social.example/user/example1/keyPackage/B" },
      ],
    });
    for (const label of ["A20", "A21"]) {
      const read = readKeyPackagesProperty(specExample(label));
      expect(read.ok && read.value.items.map((item) => item.type === "reference" && item.id)).toEqual([
        "https://example.com/keys/evan/client1",
        "https://example.com/keys/evan/client2",
      ]);
    }
    const a28 = readKeyPackagesProperty(specExample("A28"));
    expect(a28.ok && a28.value).toEqual({ items: [], next: "https://example.com/users/alyssa/key" });
  });

  it("reads the messages collection of A30", () => {
    expect(readMessagesProperty(specExample("A30"))).toEqual({
      ok: true,
      value: "https://example.com/users/alyssa/messages",
    });
  });

  it.each(KEY_PACKAGE_ACTIVITIES)("reads the KeyPackage lifecycle activity %s", (label) => {
    const example = parse(label);
    const read = readKeyPackageActivity(specExample(label));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value).toEqual({
      type: example.type,
      activityId: example.id,
      actor: example.actor,
      object: { type: "reference", id: example.object },
      ...(example.target === undefined ? {} : { target: example.target }),
    });
  });
});
