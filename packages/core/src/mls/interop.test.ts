// A peer on plain ts-mls with its defaults (as Emissary's client is: default provider, default capabilities
// with GREASE, its own signature key per KeyPackage, a `uri:uuid:` group id) and this engine talk both ways.
import {
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultCryptoProvider,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processPrivateMessage,
} from "ts-mls";
import { encodeKeyPackage } from "ts-mls/keyPackage.js";
import { describe, expect, it } from "vitest";
import {
  type ActorFetcher,
  createConversation,
  DEFAULT_SUITE,
  encryptMessage,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  processMessage,
  readKeyPackage,
} from "./index.js";

const emissary = "https://emissary.example/users/e";
const sotto = "https://sotto.example/users/s";
const text = (s: string) => new TextEncoder().encode(s);
const year = 365n * 24n * 3600n;

async function peer() {
  const cs = await getCiphersuiteImpl(getCiphersuiteFromName(DEFAULT_SUITE), defaultCryptoProvider);
  const now = BigInt(Math.floor(Date.now() / 1000));
  const kp = await generateKeyPackage(
    { credentialType: "basic", identity: text(emissary) },
    defaultCapabilities(),
    { notBefore: now - 60n, notAfter: now + year },
    [],
    cs,
  );
  return { cs, kp };
}

describe("interoperability with a default ts-mls peer", () => {
  it("invites it, and both read each other", async () => {
    const { cs, kp } = await peer();
    const device = await generateDeviceIdentity(sotto);
    const fetcher: ActorFetcher = { keyPackagesOf: async () => [encodeKeyPackage(kp.publicPackage)] };
    const created = await createConversation({ device, fetcher, time: new Date() }, { members: [emissary] });
    const welcome = decodeMlsMessage(created.welcome as Uint8Array, 0)?.[0];
    if (welcome?.wireformat !== "mls_welcome") throw new Error("no Welcome");
    let state: ClientState = await joinGroup(
      welcome.welcome,
      kp.publicPackage,
      kp.privatePackage,
      emptyPskIndex,
      cs,
    );

    const fromSotto = await encryptMessage(created.conversation, text("hello emissary"));
    const message = decodeMlsMessage(fromSotto.message, 0)?.[0];
    if (message?.wireformat !== "mls_private_message") throw new Error("not a PrivateMessage");
    const read = await processPrivateMessage(state, message.privateMessage, emptyPskIndex, cs);
    expect(read.kind === "applicationMessage" && new TextDecoder().decode(read.message)).toBe(
      "hello emissary",
    );
    state = read.newState;

    const reply = await createApplicationMessage(state, text("hello sotto"), cs);
    const bytes = encodeMlsMessage({
      version: "mls10",
      wireformat: "mls_private_message",
      privateMessage: reply.privateMessage,
    });
    const received = await processMessage(fromSotto.conversation, { bytes });
    expect(
      received.ok && received.value.kind === "application" && new TextDecoder().decode(received.value.data),
    ).toBe("hello sotto");
    expect(received.ok && received.value.sender.actorId).toBe(emissary);
  });

  it("joins its group (uri:uuid: id) from a Welcome and reads its messages", async () => {
    const { cs, kp } = await peer();
    const device = await generateDeviceIdentity(sotto);
    const pool = await generateKeyPackages(device, { count: 1, time: new Date() });
    const ours = readKeyPackage(pool.at(-1)?.keyPackage as Uint8Array); // the last-resort one
    if (!ours.ok) throw ours.error;
    const groupId = "uri:uuid:3f1c0e2a-9c59-4a43-8d8e-2b1f5f7a6c11";
    const group = await createGroup(text(groupId), kp.publicPackage, kp.privatePackage, [], cs);
    const commit = await createCommit(
      { state: group, cipherSuite: cs },
      {
        extraProposals: [{ proposalType: "add", add: { keyPackage: ours.value } }],
        ratchetTreeExtension: true,
      },
    );
    if (commit.welcome === undefined) throw new Error("no Welcome");
    const welcome = encodeMlsMessage({
      version: "mls10",
      wireformat: "mls_welcome",
      welcome: commit.welcome,
    });
    const joined = await joinConversation(device, welcome, pool);
    if (!joined.ok) throw joined.error;
    expect(joined.value.conversation.groupId).toBe(groupId);

    const sent = await createApplicationMessage(commit.newState, text("welcome aboard"), cs);
    const bytes = encodeMlsMessage({
      version: "mls10",
      wireformat: "mls_private_message",
      privateMessage: sent.privateMessage,
    });
    const received = await processMessage(joined.value.conversation, { bytes });
    expect(
      received.ok && received.value.kind === "application" && new TextDecoder().decode(received.value.data),
    ).toBe("welcome aboard");
  });
});
