// Endorsed devices (docs/security.md, "Several devices"): a verified contact's new device is accepted without a
// warning when one of the contact's verified devices endorsed its KeyPackage.
import { endorsementSigner, type Member } from "@sotto/core";
import { fingerprintText } from "./contacts.js";
import type { DaemonContext } from "./context.js";

/** Fingerprint of a new device -> fingerprint of the verified device that endorsed it. */
export type Endorsements = ReadonlyMap<string, string>;

/**
 * For the leaves of verified contacts that their contact record does not know yet: which verified device of
 * the same actor endorsed each (read from the actor's KeyPackages now). A device without an endorsement is
 * absent. Only verified contacts are looked up: for the others a new device changes nothing.
 */
export async function endorsedDevices(ctx: DaemonContext, leaves: readonly Member[]): Promise<Endorsements> {
  const found = new Map<string, string>();
  const byActor = new Map<string, Member[]>();
  for (const leaf of leaves) {
    if (leaf.actorId === ctx.settings.actorId) continue;
    const contact = ctx.store.contact(leaf.actorId);
    if (contact?.verification !== "verified") continue;
    const fingerprint = fingerprintText(leaf.signaturePublicKey);
    if (contact.devices.some((d) => d.fingerprint === fingerprint)) continue;
    byActor.set(leaf.actorId, [...(byActor.get(leaf.actorId) ?? []), leaf]);
  }
  for (const [actorId, fresh] of byActor) {
    const pinned = new Set(ctx.store.contact(actorId)?.devices.map((d) => d.fingerprint) ?? []);
    const listed = await ctx.directory.listKeyPackages(actorId).catch((error: unknown) => {
      ctx.log.warn("endorsement_unreadable", { actor: actorId, error: String(error).slice(0, 200) });
      return [];
    });
    // The verified devices' keys, as their own (still listed) KeyPackages show them.
    const candidates = listed
      .map((kp) => kp.signaturePublicKey)
      .filter((key) => pinned.has(fingerprintText(key)));
    for (const leaf of fresh) {
      for (const kp of listed) {
        if (
          kp.endorsement === undefined ||
          Buffer.compare(kp.signaturePublicKey, leaf.signaturePublicKey) !== 0
        )
          continue;
        const signer = await endorsementSigner(kp.bytes, leaf.signaturePublicKey, kp.endorsement, candidates);
        if (signer === undefined) continue;
        found.set(fingerprintText(leaf.signaturePublicKey), fingerprintText(signer));
        break;
      }
    }
  }
  return found;
}
