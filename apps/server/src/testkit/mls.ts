// Real MLS bytes for tests, made with ts-mls (suite 1, BasicCredential = actor id).
import {
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type KeyPackage,
  type PrivateKeyPackage,
} from "ts-mls";
import { encodeKeyPackage } from "ts-mls/keyPackage.js";

const impl = await getCiphersuiteImpl(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export interface Device {
  readonly actorId: string;
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
  /** The raw KeyPackage, base64 (what Emissary and Bonfire publish). */
  readonly keyPackageBase64: string;
}

export async function device(actorId: string): Promise<Device> {
  const credential = { credentialType: "basic" as const, identity: new TextEncoder().encode(actorId) };
  const kp = await generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], impl);
  return { actorId, ...kp, keyPackageBase64: b64(encodeKeyPackage(kp.publicPackage)) };
}

/** The creator starts a group and adds `invitee`: the Welcome (base64) and a first PrivateMessage (base64). */
export async function welcomeAndMessage(
  creator: Device,
  invitee: KeyPackage,
): Promise<{ welcome: string; message: string }> {
  const group: ClientState = await createGroup(
    new TextEncoder().encode(`urn:uuid:${crypto.randomUUID()}`),
    creator.publicPackage,
    creator.privatePackage,
    [],
    impl,
  );
  const commit = await createCommit(
    { state: group, cipherSuite: impl },
    { extraProposals: [{ proposalType: "add", add: { keyPackage: invitee } }], ratchetTreeExtension: true },
  );
  if (commit.welcome === undefined) throw new Error("no Welcome");
  const welcome = encodeMlsMessage({ welcome: commit.welcome, wireformat: "mls_welcome", version: "mls10" });
  const app = await createApplicationMessage(commit.newState, new TextEncoder().encode("hello"), impl);
  const message = encodeMlsMessage({
    privateMessage: app.privateMessage,
    wireformat: "mls_private_message",
    version: "mls10",
  });
  return { welcome: b64(welcome), message: b64(message) };
}

/** One MLS application message from `from` to `to` (base64), of a group `from` just made with `to`. */
export async function messageFor(from: string, to: string): Promise<string> {
  return (await welcomeAndMessage(await device(from), (await device(to)).publicPackage)).message;
}
