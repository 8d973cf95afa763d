// Human-readable output of the CLI (`--json` prints the API's results instead).
import type {
  Account,
  ApiEvent,
  Contact,
  Conversation,
  Device,
  Message,
  Status,
  SyncState,
} from "@sotto/api";

/** The short id the CLI shows and accepts for a conversation or message: the start of its uuid. */
export function shortId(id: string, length = 8): string {
  return id.replace(/^urn:uuid:/i, "").slice(0, length);
}

const time = (iso: string | null): string => (iso === null ? "never" : new Date(iso).toLocaleString());

/** How a person is shown: their handle when known, else the actor id. */
export function who(actorId: string, conversation?: Conversation): string {
  const member = conversation?.members.find((m) => m.actorId === actorId);
  return member?.handle ?? actorId;
}

/** A conversation's name: its title, else the other members' handles. */
export function chatName(conversation: Conversation, self: string | undefined): string {
  if (conversation.title) return conversation.title;
  const others = conversation.members.filter((m) => m.actorId !== self);
  return (others.length > 0 ? others : conversation.members).map((m) => m.handle ?? m.actorId).join(", ");
}

/** The sync line: the same state, reason and time as the JSON's `sync`. */
export function formatSync(sync: SyncState): string {
  return `${sync.state}${sync.error ? ` (${sync.error})` : ""}, last sync ${time(sync.lastSyncAt)}`;
}

export function formatStatus(status: Status): string {
  const server =
    status.sync.state === "offline" || status.sync.state === "error" ? status.sync.state : "online";
  return [
    `sottod ${status.version}: ${status.ready ? `running, ${server}` : "not ready"}`,
    `account  ${status.account?.handle ?? "(none)"}`,
    `sync     ${formatSync(status.sync)}`,
    `outbox   ${status.outbox.queued} queued, ${status.outbox.failed} failed`,
    `events   head ${status.events.head}`,
  ].join("\n");
}

export function formatAccount(account: Account): string {
  return `${account.handle}${account.displayName ? ` (${account.displayName})` : ""}\n  actor   ${account.actorId}\n  server  ${account.server}\n${formatDevices([account.device])}`;
}

/** The markers of a conversation in lists: left, changed keys, devices that could not be authenticated. */
function markers(c: Conversation): string {
  return [
    c.left ? " [left]" : "",
    c.keyChanged ? " [keys changed: sotto verify]" : "",
    c.authentication === "uncheckable" ? " [unauthenticated device]" : "",
    c.authentication === "contradicted" ? " [FORGED DEVICE?]" : "",
    (c.alerts?.length ?? 0) > 0 ? ` [${c.alerts?.length} alert${c.alerts?.length === 1 ? "" : "s"}]` : "",
  ].join("");
}

/**
 * What to tell a person about to send in `c` when one of the other members' devices is not authenticated
 * (`Conversation.authentication`), else undefined.
 */
export function authenticationWarning(c: Conversation, self: string | undefined): string | undefined {
  const name = chatName(c, self);
  if (c.authentication === "uncheckable")
    return `a device in "${name}" could not be authenticated: its account publishes no key to check it against. Compare fingerprints (sotto contact <handle>) before you trust what you send there.`;
  if (c.authentication === "contradicted")
    return `a device in "${name}" is not one its account publishes: someone else may hold a device in that person's name. Do not send anything sensitive until you have compared fingerprints (sotto contact <handle>).`;
  return undefined;
}

type SecurityAlert = NonNullable<Conversation["alerts"]>[number];

const ALERTS: Readonly<Record<SecurityAlert["kind"], string>> = {
  welcome_refused: "an invitation that would have replaced this conversation was refused (sent by {who})",
  readded: "{who} added this account back after it had left or been removed",
  member_uncheckable: "a device of {who} joined or changed its key and could not be authenticated",
  member_contradicted: "a device of {who} is not one its account publishes",
  device_unendorsed: "{who}, whom you verified, shows a new device none of their verified devices endorsed",
};

/** A conversation's security alerts and warning, one per line (none when there is nothing to say). */
export function formatAlerts(c: Conversation, self: string | undefined): string[] {
  const warning = authenticationWarning(c, self);
  const alerts = (c.alerts ?? []).map(
    (a) =>
      `  [${time(a.at)}] ${ALERTS[a.kind].replace("{who}", a.actorId === null ? "someone" : who(a.actorId, c))}`,
  );
  return [
    ...(warning === undefined ? [] : [`warning: ${warning}`]),
    ...(alerts.length === 0 ? [] : ["alerts:", ...alerts]),
  ];
}

export function formatConversation(c: Conversation, self: string | undefined): string {
  const members = c.members.map((m) => `  ${m.handle ?? m.actorId}${m.actorId === self ? " (you)" : ""}`);
  return [
    `${shortId(c.id)}  ${chatName(c, self)}${markers(c)}`,
    `  id ${c.id}, epoch ${c.epoch}, ${c.unread} unread, last activity ${time(c.lastActivityAt)}`,
    "members:",
    ...members,
    ...formatAlerts(c, self),
  ].join("\n");
}

export function formatChats(conversations: readonly Conversation[], self: string | undefined): string {
  if (conversations.length === 0)
    return "No conversations yet. Start one with: sotto open <handle> (or sotto send <handle> <text>)";
  return conversations
    .map((c) => {
      const unread = c.unread > 0 ? ` (${c.unread} unread)` : "";
      return `${shortId(c.id)}  ${chatName(c, self)}${unread}${markers(c)}  ${time(c.lastActivityAt)}`;
    })
    .join("\n");
}

export function formatMessage(message: Message, conversation?: Conversation): string {
  const flags = [
    message.editedAt ? "edited" : "",
    message.truncatedFrom
      ? `cut by your daemon: the sender's message was ${message.truncatedFrom} characters long`
      : "",
    message.outbox && message.outbox !== "sent" ? message.outbox : "",
  ]
    .filter(Boolean)
    .map((f) => ` (${f})`)
    .join("");
  const body = message.deleted ? "(deleted)" : plain(message);
  const files = (message.attachments ?? [])
    .map((a) => ` [${a.name ?? "attachment"}, ${a.mediaType}]`)
    .join("");
  const reactions = message.reactions.map((r) => `${r.emoji} ${r.actors.length}`).join("  ");
  const reply = message.inReplyTo ? ` (reply to ${shortId(message.inReplyTo)})` : "";
  return `${shortId(message.id)} [${time(message.published)}] ${who(message.author, conversation)}${reply}: ${body}${files}${flags}${reactions ? `\n    ${reactions}` : ""}`;
}

/** HTML content shown as text: tags dropped, the common entities decoded (it was sanitized on receipt). */
function plain(message: Message): string {
  if (message.mediaType !== "text/html") return message.content;
  return message.content
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p>/gi, "\n\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

export function formatDevices(devices: readonly Device[]): string {
  return devices
    .map(
      (d) =>
        `${d.current ? "*" : " "} ${d.name ?? shortId(d.id)}  id ${d.id}\n    fingerprint ${d.fingerprint}${
          d.link ? `\n    ${d.link.state}, comparison ${d.link.comparison}` : ""
        }`,
    )
    .join("\n");
}

export function formatContact(contact: Contact): string {
  const lines = [`${contact.handle ?? contact.actorId}: ${contact.verified ? "verified" : "NOT verified"}`];
  for (const d of contact.devices)
    lines.push(
      `  ${d.verified ? "✓" : " "} ${d.fingerprint}${d.name ? `  ${d.name}` : ""}${
        d.endorsedBy ? `  (endorsed by ${d.endorsedBy.slice(0, 9)}…)` : ""
      }`,
    );
  if (!contact.verified && contact.keyChangedAt !== null && contact.devices.some((d) => !d.endorsedBy))
    lines.push(
      "  WARNING: a new device appeared that none of the verified devices endorsed (their server may have added it): compare fingerprints before you verify again.",
    );
  return lines.join("\n");
}

/** The names the devices publish (", named A, B"), where they give one. */
function devicesNamed(devices: readonly Device[]): string {
  const names = devices.flatMap((d) => (d.name ? [d.name] : []));
  return names.length === 0 ? "" : `: ${names.join(", ")}`;
}

export function formatContacts(contacts: readonly Contact[]): string {
  if (contacts.length === 0) return "No contacts yet: everyone you share a conversation with is listed here.";
  return contacts
    .map(
      (c) =>
        `${c.handle ?? c.actorId}  ${c.verified ? "verified" : "NOT verified"}, ${c.devices.length} device${c.devices.length === 1 ? "" : "s"}${devicesNamed(c.devices)}`,
    )
    .join("\n");
}

export function formatEvent(event: ApiEvent): string {
  const { seq, type, ...rest } = event;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `#${seq} ${type} ${fields}`;
}
