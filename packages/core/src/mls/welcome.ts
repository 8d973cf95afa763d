import { emptyPskIndex, joinGroup, type KeyPackage } from "ts-mls";
import { decodeKeyPackage, makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { err, ok, type Result } from "../result.js";
import { classify } from "./classify.js";
import { bytesEqual, readMlsMessage, toHex } from "./codec.js";
import { type Conversation, clientConfig, groupIdString, type HandshakeFraming } from "./conversation.js";
import { type MlsEngineError, mlsError } from "./errors.js";
import type { DeviceIdentity } from "./identity.js";
import { decodePrivateKeyPackage, type OwnKeyPackage } from "./keyPackages.js";
import { suiteImpl } from "./suite.js";

export interface Joined {
  readonly conversation: Conversation;
  /** The KeyPackage the Welcome consumed: remove and delete it unless it is the last-resort one. */
  readonly keyPackageRef: string;
  readonly lastResort: boolean;
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
      return ok({
        conversation: { groupId, state, handshake: options.handshake ?? "private" },
        keyPackageRef: toHex(ref),
        lastResort: own.lastResort,
      });
    } catch (cause) {
      return err(classify(cause));
    }
  }
  return err(mlsError("welcome_not_for_device", "the Welcome names none of this device's KeyPackages"));
}
