// `<chat>` on the command line: the number `sotto chats` shows, the conversation id (or a unique start of its
// uuid), its title, or a member's handle.
import type { Conversation } from "@sotto/api";
import { CliError } from "./config.js";
import { chatName } from "./format.js";

const bare = (handle: string) => handle.replace(/^@/, "").toLowerCase();

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
    if (found.length === 1) return found[0] as Conversation;
    if (found.length > 1) {
      const names = found.map((c) => `${chatName(c, self)} (${c.id})`).join(", ");
      throw new CliError("ambiguous", `"${ref}" matches several conversations: ${names}`);
    }
  }
  throw new CliError("no_match", `no conversation matches "${ref}" (see: sotto chats)`);
}
