// `<chat>` on the command line: names that stay true. A person's handle or actor id names the one-to-one chat
// with them; the short id `sotto chats` shows (or any unique start of the uuid, or the whole id) names one
// conversation for good; a title names the chats with that title. Positions in a list are never names: they
// move as chats become active.
import { ApiError, type Conversation, type SottoClient } from "@sotto/api";
import { CliError } from "./config.js";
import { chatName, shortId } from "./format.js";

const bare = (handle: string) => handle.replace(/^(acct:)?@?/i, "").toLowerCase();

/** A handle (`@user@host`, `user@host`, `acct:user@host`), as opposed to an id or title. */
export const isHandle = (ref: string) => /^(acct:)?@?[^@\s/]+@[^@\s/]+$/i.test(ref);
const isActorId = (ref: string) => /^https?:\/\//i.test(ref);

const sameMembers = (a: Conversation, b: Conversation) =>
  a.members.length === b.members.length &&
  a.members.every((m) => b.members.some((n) => n.actorId === m.actorId));

const latest = (found: readonly Conversation[]) =>
  found.reduce((a, b) => (b.lastActivityAt > a.lastActivityAt ? b : a));

/** Whether `member` is the person `ref` (a handle in any spelling, or an actor id) names. */
const isPerson = (member: Conversation["members"][number], ref: string) =>
  member.actorId === ref || (member.handle !== null && bare(member.handle) === bare(ref));

export function resolveChat(
  conversations: readonly Conversation[],
  ref: string,
  self?: string,
): Conversation {
  const exact = conversations.find((c) => c.id === ref);
  if (exact) return exact;
  if (isHandle(ref) || isActorId(ref)) {
    const withThem = conversations.filter((c) =>
      c.members.some((m) => m.actorId !== self && isPerson(m, ref)),
    );
    const oneToOne = withThem.filter((c) => c.members.length === 2);
    if (oneToOne.length > 0) return latest(oneToOne);
    return pick(withThem, ref, self);
  }
  const needle = ref.toLowerCase().replace(/^urn:uuid:/, "");
  if (/^[0-9a-f-]{4,}$/.test(needle)) {
    const byId = conversations.filter((c) => shortId(c.id, 36).toLowerCase().startsWith(needle));
    if (byId.length === 1) return byId[0] as Conversation;
    if (byId.length > 1) throw ambiguous(ref, byId, self);
  }
  return pick(
    conversations.filter((c) => c.title?.toLowerCase() === ref.toLowerCase()),
    ref,
    self,
  );
}

/** Several chats with exactly the same people reach no one else whichever is taken: the latest active one. */
function pick(found: readonly Conversation[], ref: string, self: string | undefined): Conversation {
  const [first] = found;
  if (first === undefined) {
    throw new CliError(
      "no_match",
      `no conversation matches "${ref}": name one by the id \`sotto chats\` shows, its title, or a person's handle`,
    );
  }
  if (found.every((c) => sameMembers(c, first))) return latest(found);
  throw ambiguous(ref, found, self);
}

function ambiguous(ref: string, found: readonly Conversation[], self: string | undefined): CliError {
  const names = found.map((c) => `${shortId(c.id)} (${chatName(c, self)})`).join(", ");
  return new CliError("ambiguous", `"${ref}" matches several conversations: ${names}; use the id`);
}

/**
 * `resolveChat` over the daemon's conversations. A handle no member shows (the daemon may not know members'
 * handles) is resolved to its actor id by the daemon and matched again. With `open`, a person without a chat
 * gets a new one-to-one chat (how `send @carol@host hi` starts a conversation).
 */
export async function findChat(
  client: SottoClient,
  ref: string,
  options: { includeLeft?: boolean; open?: boolean } = {},
): Promise<{ chat: Conversation; self: string | undefined; opened: boolean }> {
  const [{ conversations }, status] = await Promise.all([
    client.call("conversations.list", { includeLeft: options.includeLeft ?? false }),
    client.call("status"),
  ]);
  const self = status.account?.actorId;
  const person = isHandle(ref) || isActorId(ref);
  try {
    return { chat: resolveChat(conversations, ref, self), self, opened: false };
  } catch (error) {
    if (!(error instanceof CliError && error.code === "no_match" && person)) throw error;
    if (isHandle(ref)) {
      const contact = await client.call("contacts.get", { actor: ref }).catch((cause: unknown) => {
        if (!(cause instanceof ApiError)) throw cause;
      });
      if (contact) {
        try {
          return { chat: resolveChat(conversations, contact.actorId, self), self, opened: false };
        } catch (again) {
          if (!(again instanceof CliError && again.code === "no_match")) throw again;
        }
      }
    }
    if (!options.open) throw error;
    const chat = await client.call("conversations.create", { members: [ref] });
    return { chat, self, opened: true };
  }
}
