// How a contact's device came to be trusted: endorsed by one of their verified devices (it linked it), or a
// new device nobody endorsed, which their server may have added (docs/security.md, "Several devices").
import type { Contact, Device } from "@sotto/api";

export function DeviceTrust({ contact, device }: { contact: Contact; device: Device }) {
  if (device.endorsedBy) {
    return <span class="meta"> · endorsed by {device.endorsedBy.slice(0, 9)}…</span>;
  }
  if (!contact.verified && contact.keyChangedAt !== null && device.firstSeen === contact.keyChangedAt) {
    return (
      <strong class="warning" role="alert">
        {" "}
        · new device, not endorsed by a verified device: compare its fingerprint
      </strong>
    );
  }
  return null;
}
