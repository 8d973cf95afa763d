// Human-readable output of the CLI (`--json` prints the API's results instead).
import type { ApiEvent, Contact, Conversation, Device, Message, Status } from "@sotto/api";

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

export function formatStatus(status: Status): string {
  return [
    `sottod ${status.version}: ${status.ready ? "running" : "not ready"}`,
    `account  ${status.account?.handle ?? "(none)"}`,
    `sync     ${status.sync.state}${status.sync.error ? ` (${status.sync.error})` : ""}, last ${time(status.sync.lastSyncAt)}`,
    `outbox   ${status.outbox.queued} queued, ${status.outbox.failed} failed`,
    `events   head ${status.events.head}`,
  ].join("\n");
}

export function formatChats(conversations: readonly Conversation[], self: string | undefined): string {
  if (conversations.length === 0) return "No conversations yet. Start one with: sotto open <handle>";
  return conversations
    .map((c, i) => {
      const unread = c.unread > 0 ? ` (${c.unread} unread)` : "";
      const left = c.left ? " [left]" : "";
      const keys = c.keyChanged ? " [keys changed: sotto verify]" : "";
      return `${String(i + 1).padStart(3)}  ${chatName(c, self)}${unread}${left}${keys}\n     ${c.id}  ${time(c.lastActivityAt)}`;
    })
    .join("\n");
}

export function formatMessage(message: Message, conversation?: Conversation): string {
  const flags = [
    message.editedAt ? "edited" : "",
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
  return `[${time(message.published)}] ${who(message.author, conversation)}: ${body}${files}${flags}${reactions ? `\n    ${reactions}` : ""}`;
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
    .map((d) => `${d.current ? "*" : " "} ${d.name ?? d.id}\n    fingerprint ${d.fingerprint}`)
    .join("\n");
}

export function formatContact(contact: Contact): string {
  const lines = [`${contact.handle ?? contact.actorId}: ${contact.verified ? "verified" : "NOT verified"}`];
  for (const d of contact.devices) lines.push(`  ${d.verified ? "✓" : " "} ${d.fingerprint}`);
  return lines.join("\n");
}

export function formatEvent(event: ApiEvent): string {
  const { seq, type, ...rest } = event;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `#${seq} ${type} ${fields}`;
}
