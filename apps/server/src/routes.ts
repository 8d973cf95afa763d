import { isPublicCollection } from "@sotto/core";
import {
  type ActivityLog,
  errorResponse,
  jsonResponse,
  respondWithKeyPackage,
  respondWithKeyPackages,
  respondWithLog,
  withMlsActor,
} from "@sotto/fedify";
import { parseSequence, SEQUENCE_HEADER, SEQUENCED_DELIVERY, SEQUENCED_OUTBOX } from "@sotto/shared/sequence";
import type { DeliveryOrder } from "./deliveryOrder.js";
import { ServerError } from "./errors.js";
import type { buildFederation } from "./federation.js";
import { type RouteRequest, toRequest } from "./http.js";
import { type InboxDeps, receive } from "./inbox.js";
import { addressees, type MailboxLogs } from "./mailboxes.js";
import { type OutboxDeps, postToOutbox } from "./outbox.js";
import type { Paths } from "./paths.js";
import type { ServerStore } from "./store.js";
import type { Users } from "./users.js";

export interface RouteDeps {
  readonly paths: Paths;
  readonly users: Users;
  readonly store: ServerStore;
  readonly logs: MailboxLogs;
  readonly deps: OutboxDeps;
  readonly inboxDeps: InboxDeps;
  readonly bodyLimit: number;
  readonly federation: ReturnType<typeof buildFederation>;
  /**
   * Keeps the order of each user's pipelined outbox posts (`Sotto-Sequence`), where the server can: with shared
   * commits (SQLite, one process), where posts are written in the order they are issued.
   */
  readonly outboxOrder: DeliveryOrder | undefined;
}

/** The bearer token's user, or a 401/403 error when it is missing, unknown, or not `owner`'s. */
async function requireOwner(req: RouteRequest, users: Users, owner: string): Promise<void> {
  const user = await tokenOwner(req, users);
  if (user === undefined) throw new ServerError("unauthorized", "a valid bearer token is required", 401);
  if (user !== owner) throw new ServerError("forbidden", "only the owner may do this", 403);
}

async function tokenOwner(req: RouteRequest, users: Users): Promise<string | undefined> {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  return match?.[1] === undefined ? undefined : await users.authenticate(match[1]);
}

/** Deeper than any activity needs; recursive readers (JSON-LD, term normalisation) would overflow the stack. */
const MAX_JSON_DEPTH = 64;

function parseJson(body: Uint8Array): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new ServerError("malformed_json", "the body is not valid JSON");
  }
  if (depthExceeds(parsed, MAX_JSON_DEPTH)) {
    throw new ServerError("malformed_json", `the body nests arrays or objects deeper than ${MAX_JSON_DEPTH}`);
  }
  return parsed;
}

/** Whether `value` nests deeper than `max`; iterative, so the check itself cannot overflow. */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Where a cursor the log does not hold leaves off: the owner's own post, named by the client's id for it or by
 * the server's. A post the owner did not address to itself is not in its inbox: reading goes on from where the
 * log stood when it was posted (Emissary keeps its own activity's id as its inbox cursor).
 */
function ownPostCursor(
  d: RouteDeps,
  name: string,
  log: ActivityLog,
): (id: string) => Promise<number | undefined> {
  return async (id) => {
    const serverId = (await d.store.resolveAlias(name, id)) ?? id;
    const item = await log.find(name, serverId);
    if (item !== undefined) return item.seq;
    const posted = await d.store.outbox.find(name, serverId);
    return posted === undefined ? undefined : log.positionAt(name, posted.received);
  };
}

/** Answers one HTTP request: C2S and MLS routes here, everything else (WebFinger, actors) through Fedify. */
export async function route(req: RouteRequest, d: RouteDeps): Promise<Response> {
  const { paths, users } = d;
  const method = req.method;
  const url = new URL(req.url, paths.origin);
  const target = paths.route(url.pathname);
  const known = target !== undefined && (target.kind === "sharedInbox" || (await users.exists(target.name)));

  if (method === "POST") {
    const body = await req.body(d.bodyLimit);
    if (known && target.kind === "outbox") {
      await requireOwner(req, users, target.name);
      const activity = parseJson(body);
      const post = (written?: () => void) => postToOutbox(d.deps, target.name, activity, written);
      const header = req.headers[SEQUENCE_HEADER];
      const sequence = typeof header === "string" ? parseSequence(header) : undefined;
      const posted = await (d.outboxOrder !== undefined && sequence !== undefined
        ? d.outboxOrder.inOrder(target.name, sequence, post)
        : post());
      if (!posted.ok) throw posted.error;
      return new Response(JSON.stringify(posted.value), {
        status: 201,
        headers: { "content-type": "application/activity+json", location: String(posted.value.id) },
      });
    }
    if (known && (target.kind === "inbox" || target.kind === "sharedInbox")) {
      const recipient = target.kind === "inbox" ? target.name : undefined;
      return receive(toRequest(req, paths.origin), body, parseJson(body), recipient, d.inboxDeps);
    }
    return errorResponse(404, "not_found", "nothing to post to here");
  }

  if (method === "GET" && known && target.kind !== "sharedInbox") {
    const name = target.name;
    switch (target.kind) {
      case "messages":
      case "inbox": {
        await requireOwner(req, users, name);
        const messages = target.kind === "messages";
        const log = messages ? d.logs.messages : d.logs.inbox;
        return respondWithLog(toRequest(req, paths.origin), {
          log,
          feed: messages ? d.logs.messagesFeed : d.logs.inboxFeed,
          owner: name,
          id: messages ? paths.messages(name) : paths.inbox(name),
          cursor: ownPostCursor(d, name, log),
        });
      }
      case "outbox":
        await requireOwner(req, users, name);
        return respondWithLog(toRequest(req, paths.origin), {
          log: d.store.outbox,
          owner: name,
          id: paths.outbox(name),
          cursor: ownPostCursor(d, name, d.store.outbox),
        });
      case "keyPackages":
        return respondWithKeyPackages(d.store.keyPackages, {
          owner: paths.actor(name),
          id: paths.keyPackages(name),
        });
      case "objects":
      case "activities": {
        const keyPackage = await respondWithKeyPackage(d.store.keyPackages, target.id);
        if (keyPackage !== undefined) return keyPackage;
        const item = await (target.kind === "objects" ? d.store.objects : d.store.outbox).find(
          name,
          target.id,
        );
        const visible =
          item !== undefined &&
          (addressees(item.activity).some(isPublicCollection) || (await tokenOwner(req, users)) === name);
        return visible ? jsonResponse(item.activity) : errorResponse(404, "not_found", "no such object");
      }
      case "actor": {
        const response = await d.federation.fetch(toRequest(req, paths.origin), { contextData: {} });
        return withMlsActor(
          response,
          { keyPackages: paths.keyPackages(name), messages: paths.messages(name) },
          { [SEQUENCED_DELIVERY]: 1, ...(d.outboxOrder ? { [SEQUENCED_OUTBOX]: 1 } : {}) },
        );
      }
    }
  }
  return d.federation.fetch(toRequest(req, paths.origin), {
    contextData: {},
    onNotFound: () => errorResponse(404, "not_found", "no such resource"),
  });
}
