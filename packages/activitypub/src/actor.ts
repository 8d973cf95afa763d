import { ActivityPubError } from "./errors.js";

/**
 * What Sotto needs from an actor document. `raw` is the JSON as served: MLS properties (`keyPackages` in its
 * several shapes) are read from it by @sotto/core, which knows their spellings.
 */
export interface Actor {
  readonly id: string;
  readonly type: string | readonly string[];
  readonly preferredUsername?: string;
  readonly name?: string;
  readonly inbox: string;
  readonly outbox?: string;
  /** The spec's owner-only collection of received MLS messages, when the server offers one. */
  readonly messages?: string;
  readonly sharedInbox?: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Validates an actor document; `url` is where it was fetched from (its id must be on the same origin). */
export function readActor(json: unknown, url: string): Actor {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ActivityPubError("invalid_response", `actor document at ${url} is not an object`, { url });
  }
  const raw = json as Record<string, unknown>;
  const id = link(raw.id);
  const inbox = link(raw.inbox);
  if (id === undefined || inbox === undefined) {
    throw new ActivityPubError("invalid_response", `actor document at ${url} lacks id or inbox`, { url });
  }
  if (new URL(id).origin !== new URL(url).origin) {
    throw new ActivityPubError("invalid_response", `actor ${id} was served from another origin (${url})`, {
      url,
    });
  }
  const type = raw.type;
  const endpoints = raw.endpoints as Record<string, unknown> | undefined;
  return {
    id,
    type: typeof type === "string" || Array.isArray(type) ? (type as string | string[]) : "Object",
    preferredUsername: typeof raw.preferredUsername === "string" ? raw.preferredUsername : undefined,
    name: typeof raw.name === "string" ? raw.name : undefined,
    inbox,
    outbox: link(raw.outbox),
    messages: link(raw.messages ?? raw["mls:messages"]),
    sharedInbox:
      typeof endpoints === "object" && endpoints !== null ? link(endpoints.sharedInbox) : undefined,
    raw,
  };
}

/** A property that names a resource: a URL string, or an object with an `id`. */
export function link(value: unknown): string | undefined {
  const candidate =
    typeof value === "string"
      ? value
      : typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string"
        ? (value as { id: string }).id
        : undefined;
  if (candidate === undefined || !URL.canParse(candidate)) return undefined;
  const protocol = new URL(candidate).protocol;
  return protocol === "https:" || protocol === "http:" ? candidate : undefined;
}
