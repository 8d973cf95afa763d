/** The URL layout of sotto-server; every id it mints or recognises comes from here. */
export interface Paths {
  readonly origin: string;
  readonly sharedInbox: string;
  actor(name: string): string;
  inbox(name: string): string;
  outbox(name: string): string;
  messages(name: string): string;
  keyPackages(name: string): string;
  /** A new id for an activity or object posted by `name`. */
  mint(name: string, kind: "activities" | "objects", uuid: string): string;
  /** The route a URL path maps to, if it is one of ours. */
  route(pathname: string): Route | undefined;
  /** The local user an IRI names as an actor, if any. */
  localActor(iri: string): string | undefined;
}

export type Route =
  | { readonly kind: "actor" | "inbox" | "outbox" | "messages" | "keyPackages"; readonly name: string }
  | { readonly kind: "activities" | "objects"; readonly name: string; readonly id: string }
  | { readonly kind: "sharedInbox" };

const ROUTE = /^\/users\/([^/]+)(?:\/(inbox|outbox|messages|keyPackages|activities|objects)(?:\/([^/]+))?)?$/;

export function makePaths(origin: string): Paths {
  const base = origin.replace(/\/+$/, "");
  const actor = (name: string) => `${base}/users/${encodeURIComponent(name)}`;
  return {
    origin: base,
    sharedInbox: `${base}/inbox`,
    actor,
    inbox: (name) => `${actor(name)}/inbox`,
    outbox: (name) => `${actor(name)}/outbox`,
    messages: (name) => `${actor(name)}/messages`,
    keyPackages: (name) => `${actor(name)}/keyPackages`,
    mint: (name, kind, uuid) => `${actor(name)}/${kind}/${uuid}`,
    route(pathname) {
      if (pathname === "/inbox") return { kind: "sharedInbox" };
      const m = ROUTE.exec(pathname);
      if (m === null) return undefined;
      const name = decodeURIComponent(m[1] ?? "");
      const sub = m[2] as
        | "inbox"
        | "outbox"
        | "messages"
        | "keyPackages"
        | "activities"
        | "objects"
        | undefined;
      if (sub === undefined) return { kind: "actor", name };
      if (sub === "activities" || sub === "objects") {
        return m[3] === undefined ? undefined : { kind: sub, name, id: `${base}${pathname}` };
      }
      return m[3] === undefined ? { kind: sub, name } : undefined;
    },
    localActor(iri) {
      if (!iri.startsWith(`${base}/`)) return undefined;
      const route = this.route(iri.slice(base.length).split(/[?#]/)[0] ?? "");
      return route?.kind === "actor" ? route.name : undefined;
    },
  };
}
