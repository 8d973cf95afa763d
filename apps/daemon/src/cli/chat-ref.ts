// `<chat>` on the command line: the number `sotto chats` shows, the conversation id (or a unique start of its
// uuid), its title, or a member's handle or actor id.
import { ApiError, type Conversation, type SottoClient } from "@sotto/api";
import { CliError } from "./config.js";
import { chatName } from "./format.js";

const bare = (handle: string) => handle.replace(/^(acct:)?@?/i, "").toLowerCase();

/** A handle (`@user@host`, `user@host`, `acct:user@host`), as opposed to a number, id or title. */
const isHandle = (ref: string) => /^(acct:)?@?[^@\s/]+@[^@\s/]+$/i.test(ref);

const sameMembers = (a: Conversation, b: Conversation) =>
  a.members.length === b.members.length &&
  a.members.every((m) => b.members.some((n) => n.actorId === m.actorId));

export function resolveChat(
  conversations: readonly Conversation[],
  ref: string,
  self?: string,
): Conversation {
  const index = /^\d+$/.test(ref) ? Number(ref) - 1 : -1;
  const byIndex = conversations[index];
  if (byIndex) return byIndex;
  const exact = conversations.find((c) => c.id === ref);
  if (exact) return exact;
  const needle = ref.toLowerCase();
  const candidates = [
    (c: Conversation) =>
      needle.length >= 4 &&
      c.id
        .toLowerCase()
        .replace(/^urn:uuid:/, "")
        .startsWith(needle),
    (c: Conversation) => c.title?.toLowerCase() === needle,
    (c: Conversation) =>
      c.members.some(
        (m) => m.actorId !== self && (m.actorId === ref || (m.handle && bare(m.handle) === bare(ref))),
      ),
  ];
  for (const matches of candidates) {
    const found = conversations.filter(matches);
    const [first] = found;
    if (first === undefined) continue;
    // Several chats with exactly the same people reach no one else whichever is taken: the latest active one.
    if (found.every((c) => sameMembers(c, first))) {
      return found.reduce((a, b) => (b.lastActivityAt > a.lastActivityAt ? b : a));
    }
    const names = found.map((c) => `${chatName(c, self)} (${c.id})`).join(", ");
    throw new CliError("ambiguous", `"${ref}" matches several conversations: ${names}`);
  }
  throw new CliError("no_match", `no conversation matches "${ref}" (see: sotto chats)`);
}

/**
 * `resolveChat` over the daemon's conversations; a handle no member shows (the daemon may not know members'
 * handles) is resolved to its actor id by the daemon (WebFinger) and matched again.
 */
export async function findChat(
  client: SottoClient,
  ref: string,
  options: { includeLeft?: boolean } = {},
): Promise<Conversation> {
  const [{ conversations }, status] = await Promise.all([
    client.call("conversations.list", { includeLeft: options.includeLeft ?? false }),
    client.call("status"),
  ]);
  const self = status.account?.actorId;
  try {
    return resolveChat(conversations, ref, self);
  } catch (error) {
    if (!(error instanceof CliError && error.code === "no_match" && isHandle(ref))) throw error;
    // A handle the daemon cannot resolve to a contact is still "no conversation matches".
    const contact = await client.call("contacts.get", { actor: ref }).catch((cause: unknown) => {
      throw cause instanceof ApiError ? error : cause;
    });
    return resolveChat(conversations, contact.actorId, self);
  }
}
