import { type CiphersuiteImpl, emptyPskIndex, joinGroup, type KeyPackage, type Welcome } from "ts-mls";
import { decodeKeyPackage, makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { decryptGroupInfo, decryptGroupSecrets } from "ts-mls/welcome.js";
import { err, ok, type Result } from "../result.js";
import { classify } from "./classify.js";
import { bytesEqual, readMlsMessage, toHex } from "./codec.js";
import {
  type Conversation,
  clientConfig,
  groupIdString,
  type HandshakeFraming,
  type Member,
  memberAt,
} from "./conversation.js";
import { type MlsEngineError, mlsError } from "./errors.js";
import type { DeviceIdentity } from "./identity.js";
import { decodePrivateKeyPackage, type OwnKeyPackage } from "./keyPackages.js";
import { suiteImpl } from "./suite.js";

export interface Joined {
  readonly conversation: Conversation;
  /** The KeyPackage the Welcome consumed: remove and delete it unless it is the last-resort one. */
  readonly keyPackageRef: string;
  readonly lastResort: boolean;
  /**
   * The member who made the Welcome (the GroupInfo's signer, i.e. the committer who added this device). The
   * activity that carried the Welcome must come from this member's actor (DESIGN.md §3.1).
   */
  readonly committer: Member;
}

/** The GroupInfo's signer, read once `joinGroup` has verified the Welcome (ts-mls does not return it). */
async function welcomeSigner(
  welcome: Welcome,
  ref: Uint8Array,
  initPrivateKey: Uint8Array,
  cs: CiphersuiteImpl,
): Promise<number | undefined> {
  const secrets = await decryptGroupSecrets(
    await cs.hpke.importPrivateKey(initPrivateKey),
    ref,
    welcome,
    cs.hpke,
  );
  if (secrets === undefined) return undefined;
  // No PSKs: joinGroup (with an empty PSK index) accepted this Welcome, so the PSK secret is all zeroes.
  const groupInfo = await decryptGroupInfo(welcome, secrets.joinerSecret, new Uint8Array(cs.kdf.size), cs);
  return groupInfo?.signer;
}

/**
 * Joins the group a Welcome (MLSMessage bytes, ratchet tree inside) invites this device to, with whichever
 * of the device's KeyPackages it names. Errors: `welcome_not_for_device`, `malformed`, `undecryptable`,
 * `authentication_failed`, `invalid`.
 */
export async function joinConversation(
  device: DeviceIdentity,
  welcomeBytes: Uint8Array,
  pool: readonly Pick<OwnKeyPackage, "keyPackage" | "privateKeyPackage" | "lastResort">[],
  options: { readonly handshake?: HandshakeFraming } = {},
): Promise<Result<Joined, MlsEngineError>> {
  const decoded = readMlsMessage(welcomeBytes);
  if (!decoded.ok) return decoded;
  if (decoded.value.wireformat !== "mls_welcome")
    return err(mlsError("malformed", `a ${decoded.value.wireformat} is not a Welcome`));
  const { welcome } = decoded.value;
  let cs: Awaited<ReturnType<typeof suiteImpl>>;
  try {
    cs = await suiteImpl(welcome.cipherSuite);
  } catch (cause) {
    return err(mlsError("unusable", `unsupported suite ${welcome.cipherSuite}`, cause));
  }
  for (const own of pool) {
    const kp = decodeKeyPackage(own.keyPackage, 0)?.[0] as KeyPackage | undefined;
    if (kp === undefined || kp.cipherSuite !== welcome.cipherSuite) continue;
    const ref = await makeKeyPackageRef(kp, cs.hash);
    if (!welcome.secrets.some((s) => bytesEqual(s.newMember, ref))) continue;
    const privateKeys = decodePrivateKeyPackage(own.privateKeyPackage, device);
    if (!privateKeys.ok) return privateKeys;
    try {
      const state = await joinGroup(
        welcome,
        kp,
        privateKeys.value,
        emptyPskIndex,
        cs,
        undefined,
        undefined,
        clientConfig,
      );
      const groupId = groupIdString(state.groupContext.groupId);
      if (groupId === undefined) return err(mlsError("malformed", "group id is not UTF-8"));
      const signer = await welcomeSigner(welcome, ref, privateKeys.value.initPrivateKey, cs);
      const committer = signer === undefined ? undefined : memberAt(state.ratchetTree, signer);
      if (committer === undefined) return err(mlsError("invalid", "the Welcome's signer has no leaf"));
      return ok({
        conversation: { groupId, state, handshake: options.handshake ?? "private" },
        keyPackageRef: toHex(ref),
        lastResort: own.lastResort,
        committer,
      });
    } catch (cause) {
      return err(classify(cause));
    }
  }
  return err(mlsError("welcome_not_for_device", "the Welcome names none of this device's KeyPackages"));
}
