// The MLS activities tests post, in the spec's plain terms.
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
