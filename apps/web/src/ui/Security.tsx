// What a conversation's members' authentication means for the person: the key-change banner, the security
// alerts (`Conversation.alerts`, oldest first), and the warning that sending needs a confirmation when a device
// in it is not one its actor publishes (`Conversation.authentication`), as Signal asks on a safety-number change.
import type { Conversation } from "@sotto/api";
import { nameOf } from "./names.js";
import { shortDateTime } from "./time.js";

type SecurityAlert = NonNullable<Conversation["alerts"]>[number];

/** The sentence to confirm before sending, or undefined when every other member's device is authenticated. */
export function sendWarning(conversation: Conversation): string | undefined {
  const about = (kinds: readonly SecurityAlert["kind"][]) => {
    const actors = new Set(
      (conversation.alerts ?? []).filter((a) => kinds.includes(a.kind)).map((a) => a.actorId),
    );
    const names = [...actors].flatMap((a) => (a === null ? [] : [nameOf(conversation, a)]));
    return names.length > 0 ? names.join(", ") : "a member";
  };
  switch (conversation.authentication) {
    case "contradicted":
      return `A device in ${about(["member_contradicted"])}'s name is not one their account publishes: someone else may read this conversation. Compare fingerprints with them before you send.`;
    case "uncheckable":
      return `The device of ${about(["member_uncheckable"])} could not be checked: their account publishes no keys to compare with. Compare fingerprints with them before you trust this conversation.`;
    default:
      return undefined;
  }
}

function alertText(alert: SecurityAlert, conversation: Conversation): string {
  const who = alert.actorId === null ? "someone" : nameOf(conversation, alert.actorId);
  switch (alert.kind) {
    case "welcome_refused":
      return `An invitation from ${who} that would have replaced this conversation was refused; nothing changed.`;
    case "readded":
      return `${who} added you back to this conversation after you had left or been removed.`;
    case "member_uncheckable":
      return `A device of ${who} could not be checked against the keys their account publishes.`;
    case "member_contradicted":
      return `A device in ${who}'s name is not one their account publishes: someone else may hold it.`;
    case "device_unendorsed":
      return `${who}, whom you verified, has a new device that none of their verified devices vouched for.`;
  }
}

export function SecurityNotices({
  conversation,
  keyChanged,
  onReview,
}: {
  conversation: Conversation;
  keyChanged: boolean;
  onReview: () => void;
}) {
  const alerts = conversation.alerts ?? [];
  if (!keyChanged && alerts.length === 0) return null;
  return (
    <section class="banner warning" aria-label="Security">
      {keyChanged ? (
        <p role="alert">
          A verified contact in this conversation has a new or changed device key. Compare fingerprints before
          you trust it.{" "}
          <button type="button" onClick={onReview}>
            Review contacts
          </button>
        </p>
      ) : null}
      {alerts.length > 0 ? (
        <ul class="alerts" aria-label="Security alerts">
          {alerts.map((alert) => (
            <li key={`${alert.kind}-${alert.actorId}-${alert.at}`} data-alert={alert.kind}>
              {alertText(alert, conversation)} <span class="meta">({shortDateTime(alert.at)})</span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
