import { deviceFingerprint, type LeafAuthentication } from "@sotto/core";
import type { ContactRecord } from "@sotto/storage";

/** A device's fingerprint as contacts record it and the API shows it: core's hex groups, space separated. */
export function fingerprintText(signaturePublicKey: Uint8Array): string {
  return deviceFingerprint(signaturePublicKey).hexGroups.join(" ");
}

/** Devices seen for one actor in a group, by fingerprint, with what checking them found (when checked now). */
export interface SeenDevices {
  readonly actorId: string;
  readonly fingerprints: readonly string[];
  readonly authentication?: ReadonlyMap<string, LeafAuthentication>;
  /** New devices endorsed by a verified device of the same actor: fingerprint -> the endorser's. */
  readonly endorsedBy?: ReadonlyMap<string, string>;
  /** The names devices publish with their KeyPackages, by fingerprint, where known. */
  readonly names?: ReadonlyMap<string, string>;
}

export interface ContactChange {
  readonly contact: ContactRecord;
  /** A new or changed device appeared for a contact someone had verified: mark their conversations. */
  readonly verifiedChanged: boolean;
  /** Devices appeared that were not known before (for a contact seen earlier). */
  readonly newDevices: boolean;
}

/**
 * Brings a contact's device list up to date with what a group shows now. Devices are only ever added here
 * (an actor may have other devices in other groups); a device never seen before on a verified contact moves it
 * to `changed` until the user verifies again, unless one of the contact's verified devices endorsed it.
 */
export function updateContact(
  previous: ContactRecord | undefined,
  seen: SeenDevices,
  at: number,
): ContactChange | undefined {
  const known = new Set(previous?.devices.map((d) => d.fingerprint) ?? []);
  const fresh = seen.fingerprints.filter((f) => !known.has(f));
  const checked = seen.authentication ?? new Map<string, LeafAuthentication>();
  // A device once authenticated stays so: its actor published its key.
  const rechecked = (previous?.devices ?? []).filter(
    (d) =>
      d.authentication !== "authenticated" &&
      checked.has(d.fingerprint) &&
      checked.get(d.fingerprint) !== d.authentication,
  );
  if (previous !== undefined && fresh.length === 0 && rechecked.length === 0) return undefined;
  const endorsedBy = seen.endorsedBy ?? new Map<string, string>();
  const verifiedChanged = previous?.verification === "verified" && fresh.some((f) => !endorsedBy.has(f));
  const withCheck = (fingerprint: string) => {
    const authentication = checked.get(fingerprint);
    return authentication === undefined ? {} : { authentication };
  };
  return {
    contact: {
      actor: seen.actorId,
      name: previous?.name,
      devices: [
        ...(previous?.devices ?? []).map((d) =>
          rechecked.includes(d) ? { ...d, ...withCheck(d.fingerprint) } : d,
        ),
        ...fresh.map((fingerprint) => ({
          fingerprint,
          firstSeen: at,
          ...withCheck(fingerprint),
          ...(endorsedBy.has(fingerprint) ? { endorsedBy: endorsedBy.get(fingerprint) } : {}),
          ...(seen.names?.has(fingerprint) ? { name: seen.names.get(fingerprint) } : {}),
        })),
      ],
      verification: verifiedChanged ? "changed" : (previous?.verification ?? "unverified"),
    },
    verifiedChanged,
    newDevices: previous !== undefined && fresh.length > 0,
  };
}
