import { randomUUID } from "node:crypto";
import { asList, firstLinkId, isJsonObject, type JsonObject, linkId } from "@sotto/core";
import {
  type ActivityFeed,
  type ActivityLog,
  carriesMls,
  type LoggedActivity,
  validateMls,
} from "@sotto/fedify";

const ADDRESSING = ["to", "cc", "bto", "bcc", "audience"] as const;

/** Every IRI an activity and its embedded object are addressed to. */
export function addressees(activity: JsonObject): string[] {
  const nodes = [activity, ...(isJsonObject(activity.object) ? [activity.object] : [])];
  const ids = nodes.flatMap((node) => ADDRESSING.flatMap((p) => asList(node[p]).map(linkId)));
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

export interface MailboxLogs {
  /** New items reach the feeds through a LogFollower (several web processes), not from here. */
  readonly followed: boolean;
  /** With `followed`: makes this process's followers read the logs now (an append here is then seen at once). */
  readonly wakeFollowers?: () => void;
  readonly inbox: ActivityLog;
  readonly inboxFeed: ActivityFeed;
  readonly messages: ActivityLog;
  readonly messagesFeed: ActivityFeed;
  /**
   * Appends an activity to `owner`'s inbox and, when `mls`, to their `messages`, as one write (all or none):
   * the inbox item and the messages item, each `undefined` where the log already held it.
   */
  readonly appendReceived: (
    owner: string,
    id: string,
    activity: JsonObject,
    mls: boolean,
  ) => Promise<readonly [LoggedActivity | undefined, LoggedActivity | undefined]>;
}

/**
 * Puts a received activity into a local user's inbox and, when it carries a valid MLS object, into their
 * `messages` collection. Delivery is idempotent on the activity id. Invalid MLS stays in the inbox only.
 */
export async function deliverLocally(logs: MailboxLogs, owner: string, activity: JsonObject): Promise<void> {
  const id = linkId(activity) ?? `urn:uuid:${randomUUID()}`;
  const actorId = firstLinkId(activity.actor);
  const mls =
    actorId !== undefined &&
    carriesMls(activity) &&
    validateMls(activity, { actorId, requireRecipients: false }).ok;
  const [inboxItem, item] = await logs.appendReceived(owner, id, activity, mls);
  if (logs.followed) {
    logs.wakeFollowers?.();
    return;
  }
  if (inboxItem !== undefined) logs.inboxFeed.publish(owner, inboxItem);
  if (item !== undefined) logs.messagesFeed.publish(owner, item);
}
