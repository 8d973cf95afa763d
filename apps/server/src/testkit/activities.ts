// The MLS activities tests post, in the spec's plain terms.
import { randomUUID } from "node:crypto";

export const MLS_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://purl.archive.org/socialweb/mls",
];

/** A bare PrivateMessage (the server wraps it in a Create); `extra` adds fields such as `context`. */
export function barePrivateMessage(
  to: readonly string[],
  content: string,
  extra: Record<string, unknown> = {},
) {
  return {
    "@context": MLS_CONTEXT,
    type: "PrivateMessage",
    to,
    mediaType: "message/mls",
    encoding: "base64",
    content,
    ...extra,
  };
}

/** An MLS message as Emissary's client posts it: a Create with the client's own `uri:uuid:` id. */
export function clientCreate(from: string, to: string, content: string, id = `uri:uuid:${randomUUID()}`) {
  return {
    "@context": MLS_CONTEXT,
    id,
    type: "Create",
    actor: from,
    to: [to],
    object: { type: "PrivateMessage", to: [to], mediaType: "message/mls", encoding: "base64", content },
  };
}
