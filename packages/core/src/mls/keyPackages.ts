import type { Capabilities, CiphersuiteName, KeyPackage, PrivateKeyPackage } from "ts-mls";
import { encodeKeyPackage, generateKeyPackageWithKey, makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { err, ok, type Result } from "../result.js";
import { toHex } from "./codec.js";
import { type MlsEngineError, mlsError } from "./errors.js";
import { credentialOf, type DeviceIdentity } from "./identity.js";
import { DEFAULT_SUITE, SUPPORTED_SUITES, suiteImpl } from "./suite.js";

/** The last_resort KeyPackage extension (draft-ietf-mls-extensions): may be used more than once. */
export const LAST_RESORT_EXTENSION = 0x000a;

/** Ninety days: long enough for an always-on daemon that refills its pool, short enough to age out. */
export const DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS = 90 * 24 * 3600;

// Accept clocks up to an hour behind ours.
const CLOCK_SKEW_SECONDS = 3600n;

export function deviceCapabilities(): Capabilities {
  return {
    versions: ["mls10"],
    ciphersuites: [...SUPPORTED_SUITES],
    extensions: [LAST_RESORT_EXTENSION],
    proposals: [],
    credentials: ["basic"],
  };
}

/**
 * One KeyPackage of this device: the public part to publish (raw bytes, as the spec's peers do) and the
 * private part to keep in the store until a Welcome consumes it.
 */
export interface OwnKeyPackage {
  /** Raw TLS-encoded KeyPackage: the `content` of the published KeyPackage object. */
  readonly keyPackage: Uint8Array;
  /** The HPKE init and leaf private keys, versioned. Secret. */
  readonly privateKeyPackage: Uint8Array;
  /** KeyPackageRef (RFC 9420 §5.2), hex: what a Welcome names. */
  readonly ref: string;
  readonly suite: CiphersuiteName;
  readonly lastResort: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface KeyPackagePoolOptions {
  /** How many single-use KeyPackages. */
  readonly count: number;
  /** Add one last-resort KeyPackage after them (default true). */
  readonly lastResort?: boolean;
  readonly lifetimeSeconds?: number;
  readonly suite?: CiphersuiteName;
  /** The current time: lifetimes start here. */
  readonly time: Date;
}

export function seconds(time: Date): bigint {
  return BigInt(Math.floor(time.getTime() / 1000));
}

/** A pool of `count` KeyPackages plus (by default) one last-resort package, all signed by the device key. */
export async function generateKeyPackages(
  device: DeviceIdentity,
  options: KeyPackagePoolOptions,
): Promise<OwnKeyPackage[]> {
  const suite = options.suite ?? DEFAULT_SUITE;
  const cs = await suiteImpl(suite);
  const now = seconds(options.time);
  const lifetime = {
    notBefore: now - CLOCK_SKEW_SECONDS,
    notAfter: now + BigInt(options.lifetimeSeconds ?? DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS),
  };
  const kinds = [
    ...Array<boolean>(options.count).fill(false),
    ...(options.lastResort === false ? [] : [true]),
  ];
  return Promise.all(
    kinds.map(async (lastResort) => {
      const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
        credentialOf(device.actorId),
        deviceCapabilities(),
        lifetime,
        lastResort ? [{ extensionType: LAST_RESORT_EXTENSION, extensionData: new Uint8Array(0) }] : [],
        { signKey: device.signaturePrivateKey, publicKey: device.signaturePublicKey },
        cs,
      );
      return {
        keyPackage: encodeKeyPackage(publicPackage),
        privateKeyPackage: encodePrivateKeyPackage(privatePackage),
        ref: toHex(await makeKeyPackageRef(publicPackage, cs.hash)),
        suite,
        lastResort,
        notBefore: new Date(Number(lifetime.notBefore) * 1000),
        notAfter: new Date(Number(lifetime.notAfter) * 1000),
      };
    }),
  );
}

export function isLastResort(keyPackage: KeyPackage): boolean {
  return keyPackage.extensions.some((e) => e.extensionType === LAST_RESORT_EXTENSION);
}

const PRIVATE_KEY_PACKAGE_VERSION = 1;

// Version byte, then two length-prefixed keys. The signature key is the device's and is not repeated here.
function encodePrivateKeyPackage(p: PrivateKeyPackage): Uint8Array {
  return Uint8Array.from([
    PRIVATE_KEY_PACKAGE_VERSION,
    p.initPrivateKey.length,
    ...p.initPrivateKey,
    p.hpkePrivateKey.length,
    ...p.hpkePrivateKey,
  ]);
}

export function decodePrivateKeyPackage(
  bytes: Uint8Array,
  device: DeviceIdentity,
): Result<PrivateKeyPackage, MlsEngineError> {
  const initLength = bytes[1] ?? 0;
  const hpkeLength = bytes[2 + initLength] ?? 0;
  if (
    bytes[0] !== PRIVATE_KEY_PACKAGE_VERSION ||
    bytes.length !== 3 + initLength + hpkeLength ||
    initLength === 0
  )
    return err(mlsError("malformed", "private KeyPackage does not decode"));
  return ok({
    initPrivateKey: bytes.slice(2, 2 + initLength),
    hpkePrivateKey: bytes.slice(3 + initLength),
    signaturePrivateKey: device.signaturePrivateKey,
  });
}
