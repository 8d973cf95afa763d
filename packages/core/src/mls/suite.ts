import {
  type CiphersuiteImpl,
  type CiphersuiteName,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";
import { mlsError } from "./errors.js";
import { nodeCryptoProvider } from "./provider.js";

/** RFC 9420's mandatory suite, and what Emissary and Bonfire use. */
export const DEFAULT_SUITE: CiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

/**
 * The suites this engine runs, best first. A device identity is one Ed25519 key, so only Ed25519 suites can be
 * listed; suite 3 (ChaCha20) would need ts-mls' optional ChaCha dependencies, which are not installed.
 */
export const SUPPORTED_SUITES: readonly CiphersuiteName[] = [DEFAULT_SUITE];

const impls = new Map<CiphersuiteName, Promise<CiphersuiteImpl>>();

/** The (cached) implementation of a suite on the node:crypto provider. */
export function suiteImpl(name: CiphersuiteName): Promise<CiphersuiteImpl> {
  let impl = impls.get(name);
  if (impl === undefined) {
    const suite = getCiphersuiteFromName(name);
    if (suite.signature !== "Ed25519")
      throw mlsError("unusable", `ciphersuite ${name} is not an Ed25519 suite`);
    impl = getCiphersuiteImpl(suite, nodeCryptoProvider);
    impls.set(name, impl);
  }
  return impl;
}

/**
 * The best suite every invited device can use: `offers` holds, per device, the suites of its KeyPackages.
 * The first of `preferences` offered by all wins; with no common choice, the mandatory suite 1.
 */
export function negotiateSuite(
  offers: readonly (readonly CiphersuiteName[])[],
  preferences: readonly CiphersuiteName[] = SUPPORTED_SUITES,
): CiphersuiteName {
  return preferences.find((suite) => offers.every((offer) => offer.includes(suite))) ?? DEFAULT_SUITE;
}
