// The daemon's side of the Authentication Service for members (DESIGN.md §3.1, docs/security.md): which leaves
// to look up, and how the outcome shows on the conversation (flags, alerts, events).
import {
  type AuthenticatedLeaf,
  authenticateLeaves,
  type Conversation,
  type Member,
  members,
} from "@sotto/core";
import type { ContactRecord, EventInput } from "@sotto/storage";
import { fingerprintText } from "./contacts.js";
import type { DaemonContext } from "./context.js";
import { type ConversationInfo, type SecurityAlert, withAlerts } from "./conversationInfo.js";
import { event } from "./events.js";
import { contactUpdates, type LoadedConversation } from "./groups.js";

const hex = (key: Uint8Array) => Buffer.from(key).toString("hex");

/**
 * Checks leaves against what their actors publish. A device a contact record already shows as authenticated
 * is not looked up again: its actor published its key once, which stays true after its packages are consumed.
 * `fresh`: the leaves come from a member's commit (see ActorDirectory.signatureKeysOf).
 */
export async function authenticateMembers(
  ctx: DaemonContext,
  leaves: readonly Member[],
  options: { readonly fresh?: boolean } = {},
): Promise<AuthenticatedLeaf[]> {
  const recorded = (m: Member) =>
    ctx.store
      .contact(m.actorId)
      ?.devices.some(
        (d) =>
          d.authentication === "authenticated" && d.fingerprint === fingerprintText(m.signaturePublicKey),
      ) === true;
  const known = leaves.filter(recorded);
  const rest = leaves.filter((m) => !known.includes(m));
  return [
    ...known.map((member) => ({ member, authentication: "authenticated" as const })),
    ...(rest.length === 0
      ? []
      : await authenticateLeaves(
          {
            signatureKeysOf: (actorId, wanted) =>
              ctx.directory.signatureKeysOf(actorId, wanted, { fresh: options.fresh === true }),
          },
          rest,
        )),
  ];
}

/**
 * The conversation's info once `checked` leaves are taken into account: the devices not authenticated are
 * recorded (only those still in the group are kept), with one alert per actor that has such a device.
 */
export function recordAuthentication(
  info: ConversationInfo,
  conversation: Conversation,
  checked: readonly AuthenticatedLeaf[],
  at: number,
): { info: ConversationInfo; alerts: SecurityAlert[] } {
  const present = new Set(members(conversation).map((m) => hex(m.signaturePublicKey)));
  const unauthenticated: Record<string, "uncheckable" | "contradicted"> = Object.fromEntries(
    Object.entries(info.unauthenticated).filter(([key]) => present.has(key)),
  );
  const alerts: SecurityAlert[] = [];
  for (const { member, authentication } of checked) {
    const key = hex(member.signaturePublicKey);
    if (authentication === "authenticated") {
      delete unauthenticated[key];
      continue;
    }
    unauthenticated[key] = authentication;
    const kind = authentication === "contradicted" ? "member_contradicted" : "member_uncheckable";
    if (!alerts.some((a) => a.kind === kind && a.actorId === member.actorId))
      alerts.push({ kind, actorId: member.actorId, at });
  }
  return { info: withAlerts({ ...info, unauthenticated }, alerts), alerts };
}

/** The `conversation.security_alert` events of new alerts. */
export function alertEvents(conversationId: string, alerts: readonly SecurityAlert[]): EventInput[] {
  return alerts.map((a) =>
    event({ type: "conversation.security_alert", conversationId, kind: a.kind, actorId: a.actorId }),
  );
}

/**
 * A sender whose device could not be checked before is checked again when its message arrives (its actor may
 * publish the key by now: a new daemon publishes its KeyPackages after it starts). The directory reads a
 * listing at most every few seconds, so this costs nothing per message. Unchanged when still uncheckable.
 */
export async function recheckSender(
  ctx: DaemonContext,
  loaded: LoadedConversation,
  conversation: Conversation,
  sender: Member,
  at: number,
): Promise<{ info: ConversationInfo; contacts: ContactRecord[]; events: EventInput[] }> {
  const unchanged = { info: loaded.info, contacts: [], events: [] };
  if (loaded.info.unauthenticated[hex(sender.signaturePublicKey)] !== "uncheckable") return unchanged;
  const checked = await authenticateMembers(ctx, [sender]);
  if (checked.every((c) => c.authentication === "uncheckable")) return unchanged;
  const recorded = recordAuthentication(loaded.info, conversation, checked, at);
  const contacts = contactUpdates(ctx, conversation, recorded.info, at, checked);
  return {
    info: contacts.info,
    contacts: contacts.contacts,
    events: [
      ...alertEvents(conversation.groupId, recorded.alerts),
      ...contacts.events,
      event({ type: "conversation.updated", conversationId: conversation.groupId }),
    ],
  };
}
