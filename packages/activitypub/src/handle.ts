import { ActivityPubError } from "./errors.js";

/** A fediverse handle, `@user@host` (also written `user@host` or `acct:user@host`). */
export interface Handle {
  readonly user: string;
  readonly host: string;
}

/** Reads a handle; `undefined` when the text is not one (it may then be an actor URL). */
export function parseHandle(text: string): Handle | undefined {
  const match = /^(?:acct:|@)?([^@\s/?#]+)@([^@\s/?#]+)$/.exec(text.trim());
  if (match === null) return undefined;
  return { user: match[1] as string, host: (match[2] as string).toLowerCase() };
}

export function formatHandle(handle: Handle): string {
  return `@${handle.user}@${handle.host}`;
}

/** What the user typed to name an actor: a handle, or the actor's id URL. */
export type ActorReference = { readonly handle: Handle } | { readonly id: string };

export function parseActorReference(text: string): ActorReference {
  const handle = parseHandle(text);
  if (handle !== undefined) return { handle };
  try {
    const url = new URL(text.trim());
    if (url.protocol === "https:" || url.protocol === "http:") return { id: url.href };
  } catch {
    // Neither a handle nor a URL: reported below.
  }
  throw new ActivityPubError(
    "invalid_url",
    `neither a handle (@user@host) nor an actor URL: ${text.slice(0, 100)}`,
  );
}
