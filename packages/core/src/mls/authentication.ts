// The Authentication Service of DESIGN.md §3 and the spec's §Authentication Service: a KeyPackage belongs to
// an actor only if its BasicCredential names that actor, the actor lists it in `keyPackages`, its lifetime
// holds now and its signature verifies.
import type { AuthenticationService, CiphersuiteName, KeyPackage } from "ts-mls";
import { encodeKeyPackage, verifyKeyPackage } from "ts-mls/keyPackage.js";
import { bytesEqual, readKeyPackage } from "./codec.js";
import type { Member } from "./conversation.js";
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
 * Whether a leaf's signature key is one its actor publishes (DESIGN.md §3.1): `authenticated` (a KeyPackage
 * its actor lists carries the key), `contradicted` (the actor lists KeyPackages and none carries it: someone
 * else holds a leaf in that actor's name), `uncheckable` (the actor lists nothing to check against, as peers
 * that consume every KeyPackage do, or its listing cannot be read).
 */
export type LeafAuthentication = "authenticated" | "contradicted" | "uncheckable";

/** The signature keys actors publish, as the app looks them up (and caches them). */
export interface DeviceKeyDirectory {
  /**
   * The signature keys `actorId` publishes, or undefined when its listing cannot be read. `wanted` are the
   * keys being checked: an implementation may answer from its cache when it already knows all of them.
   */
  signatureKeysOf(actorId: string, wanted: readonly Uint8Array[]): Promise<readonly Uint8Array[] | undefined>;
}

export interface AuthenticatedLeaf {
  readonly member: Member;
  readonly authentication: LeafAuthentication;
}

/**
 * The signature keys of the KeyPackages `actorId` lists that name it and whose signature verifies. Lifetimes
 * do not matter here: an expired KeyPackage still shows which key its actor published. Errors:
 * `authentication_failed` when the listing cannot be read.
 */
export async function publishedSignatureKeys(fetcher: ActorFetcher, actorId: string): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for (const kp of await listedKeyPackages(fetcher, actorId)) {
    if (actorIdOf(kp.leafNode.credential) !== actorId || !SUPPORTED_SUITES.includes(kp.cipherSuite)) continue;
    if (keys.some((k) => bytesEqual(k, kp.leafNode.signaturePublicKey))) continue;
    if (await verifyKeyPackage(kp, (await suiteImpl(kp.cipherSuite)).signature))
      keys.push(kp.leafNode.signaturePublicKey);
  }
  return keys;
}

/**
 * The Authentication Service for leaves already in a group (a Welcome's tree, an Add, a changed signature
 * key): each checked against what its actor publishes, one lookup per actor. The caller decides what each
 * outcome means (refuse a Welcome with a contradicted leaf, flag a commit, show uncheckable ones).
 */
export async function authenticateLeaves(
  directory: DeviceKeyDirectory,
  leaves: readonly Member[],
): Promise<AuthenticatedLeaf[]> {
  const byActor = Map.groupBy(leaves, (m) => m.actorId);
  const out: AuthenticatedLeaf[] = [];
  for (const [actorId, devices] of byActor) {
    const wanted = devices.map((m) => m.signaturePublicKey);
    const published = URL.canParse(actorId)
      ? await directory.signatureKeysOf(actorId, wanted).catch(() => undefined)
      : [];
    for (const member of devices) {
      const authentication: LeafAuthentication =
        published === undefined || published.length === 0
          ? "uncheckable"
          : published.some((k) => bytesEqual(k, member.signaturePublicKey))
            ? "authenticated"
            : "contradicted";
      out.push({ member, authentication });
    }
  }
  return out;
}

/**
 * The check ts-mls itself runs on every credential inside a group: a BasicCredential whose identity is an
 * http(s) actor id. It cannot look anything up; `authenticateLeaves` then checks each new or re-keyed leaf
 * against what its actor publishes (a committer's word is no proof: the committer may be the attacker).
 */
export const memberAuthenticationService: AuthenticationService = {
  async validateCredential(credential) {
    const actorId = actorIdOf(credential);
    if (actorId === undefined || !URL.canParse(actorId)) return false;
    const { protocol } = new URL(actorId);
    return protocol === "https:" || protocol === "http:";
  },
};
