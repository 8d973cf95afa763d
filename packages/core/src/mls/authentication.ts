// The Authentication Service of DESIGN.md §3 and the spec's §Authentication Service: a KeyPackage belongs to
// an actor only if its BasicCredential names that actor, the actor lists it in `keyPackages`, its lifetime
// holds now and its signature verifies.
import type { AuthenticationService, CiphersuiteName, KeyPackage } from "ts-mls";
import { encodeKeyPackage, verifyKeyPackage } from "ts-mls/keyPackage.js";
import { bytesEqual, readKeyPackage } from "./codec.js";
import { type MlsEngineError, mlsError } from "./errors.js";
import { actorIdOf } from "./identity.js";
import { isLastResort, seconds } from "./keyPackages.js";
import { SUPPORTED_SUITES, suiteImpl } from "./suite.js";

/**
 * What the engine needs from the network, injected by the app: the KeyPackages an actor lists in its
 * `keyPackages` collection, as bytes (raw or MLSMessage-framed), already fetched and base64-decoded.
 */
export interface ActorFetcher {
  keyPackagesOf(actorId: string): Promise<readonly Uint8Array[]>;
}

/** One device of an invited actor, ready to add: its authenticated KeyPackages (one per suite it offers). */
export interface DeviceKeyPackages {
  readonly actorId: string;
  readonly signaturePublicKey: Uint8Array;
  readonly keyPackages: readonly KeyPackage[];
}

/** Identity, lifetime and signature of one KeyPackage; `listed` is checked by the callers. */
async function checkKeyPackage(
  kp: KeyPackage,
  actorId: string,
  time: Date,
): Promise<MlsEngineError | undefined> {
  if (actorIdOf(kp.leafNode.credential) !== actorId)
    return mlsError("authentication_failed", `KeyPackage credential does not name ${actorId}`);
  const { lifetime } = kp.leafNode;
  const now = seconds(time);
  if (lifetime === undefined || lifetime.notBefore > now || lifetime.notAfter < now)
    return mlsError("authentication_failed", `KeyPackage of ${actorId} is outside its lifetime`);
  if (!SUPPORTED_SUITES.includes(kp.cipherSuite))
    return mlsError(
      "authentication_failed",
      `KeyPackage of ${actorId} uses unsupported suite ${kp.cipherSuite}`,
    );
  if (!(await verifyKeyPackage(kp, (await suiteImpl(kp.cipherSuite)).signature)))
    return mlsError("authentication_failed", `KeyPackage signature of ${actorId} does not verify`);
  return undefined;
}

async function listedKeyPackages(fetcher: ActorFetcher, actorId: string): Promise<KeyPackage[]> {
  let listed: readonly Uint8Array[];
  try {
    listed = await fetcher.keyPackagesOf(actorId);
  } catch (cause) {
    throw mlsError("authentication_failed", `cannot read the keyPackages of ${actorId}`, cause);
  }
  return listed.flatMap((bytes) => {
    const kp = readKeyPackage(bytes);
    return kp.ok ? [kp.value] : [];
  });
}

/**
 * The devices of `actorId` to add, from the KeyPackages its collection lists, or from `chosen` ones (each of
 * which must also be listed). Packages that fail the checks are skipped; an actor left with no device is
 * refused with `authentication_failed`. Devices are told apart by signature key.
 */
export async function authenticateActorDevices(
  fetcher: ActorFetcher,
  actorId: string,
  time: Date,
  chosen?: readonly Uint8Array[],
): Promise<DeviceKeyPackages[]> {
  const listed = await listedKeyPackages(fetcher, actorId);
  const candidates: KeyPackage[] = [];
  let refusal: MlsEngineError | undefined;
  for (const bytes of chosen ?? listed.map((kp) => encodeKeyPackage(kp))) {
    const kp = readKeyPackage(bytes);
    if (!kp.ok) {
      refusal = mlsError("authentication_failed", `a KeyPackage of ${actorId} does not decode`, kp.error);
      continue;
    }
    const encoded = encodeKeyPackage(kp.value);
    const problem = listed.some((l) => bytesEqual(encodeKeyPackage(l), encoded))
      ? await checkKeyPackage(kp.value, actorId, time)
      : mlsError("authentication_failed", `KeyPackage is not listed in the keyPackages of ${actorId}`);
    if (problem === undefined) candidates.push(kp.value);
    else refusal = problem;
  }
  if (chosen !== undefined && refusal !== undefined) throw refusal;
  const devices = new Map<string, KeyPackage[]>();
  for (const kp of candidates) {
    const key = Buffer.from(kp.leafNode.signaturePublicKey).toString("hex");
    devices.set(key, [...(devices.get(key) ?? []), kp]);
  }
  if (devices.size === 0)
    throw refusal ?? mlsError("authentication_failed", `${actorId} lists no KeyPackage`);
  return [...devices.values()].map((keyPackages) => ({
    actorId,
    signaturePublicKey: (keyPackages[0] as KeyPackage).leafNode.signaturePublicKey,
    keyPackages,
  }));
}

/** The KeyPackage of a device for a suite, preferring single-use ones over the last-resort one. */
export function keyPackageFor(device: DeviceKeyPackages, suite: CiphersuiteName): KeyPackage | undefined {
  const offered = device.keyPackages.filter((kp) => kp.cipherSuite === suite);
  return offered.find((kp) => !isLastResort(kp)) ?? offered[0];
}

/**
 * The check ts-mls runs on every credential inside a group (ratchet tree leaves, commit paths, Adds of other
 * committers): a BasicCredential whose identity is an http(s) actor id. Members' KeyPackages are consumed and
 * removed from their collections once used, so leaves already in a group cannot be looked up again; the
 * committer who added them ran the full check above.
 */
export const memberAuthenticationService: AuthenticationService = {
  async validateCredential(credential) {
    const actorId = actorIdOf(credential);
    if (actorId === undefined || !URL.canParse(actorId)) return false;
    const { protocol } = new URL(actorId);
    return protocol === "https:" || protocol === "http:";
  },
};
