import type { IncomingMessage } from "node:http";
import { isPublicCollection } from "@sotto/core";
import {
  errorResponse,
  jsonResponse,
  respondWithKeyPackage,
  respondWithKeyPackages,
  respondWithLog,
  type SqliteActivityLog,
  type SqliteKeyPackageStore,
  withMlsActor,
} from "@sotto/fedify";
import { ServerError } from "./errors.js";
import type { buildFederation } from "./federation.js";
import { readBody, toRequest } from "./http.js";
import { type InboxDeps, receive } from "./inbox.js";
import { addressees, type MailboxLogs } from "./mailboxes.js";
import { type OutboxDeps, postToOutbox } from "./outbox.js";
import type { Paths } from "./paths.js";
import type { Users } from "./users.js";

export interface RouteDeps {
  readonly paths: Paths;
  readonly users: Users;
  readonly keyPackages: SqliteKeyPackageStore;
  readonly logs: MailboxLogs;
  readonly outbox: SqliteActivityLog;
  readonly objects: SqliteActivityLog;
  readonly deps: OutboxDeps;
  readonly inboxDeps: InboxDeps;
  readonly bodyLimit: number;
  readonly federation: ReturnType<typeof buildFederation>;
}

/** The bearer token's user, or a 401/403 error when it is missing, unknown, or not `owner`'s. */
function requireOwner(req: IncomingMessage, users: Users, owner: string): void {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const user = match?.[1] === undefined ? undefined : users.authenticate(match[1]);
  if (user === undefined) throw new ServerError("unauthorized", "a valid bearer token is required", 401);
  if (user !== owner) throw new ServerError("forbidden", "only the owner may do this", 403);
}

function tokenOwner(req: IncomingMessage, users: Users): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  return match?.[1] === undefined ? undefined : users.authenticate(match[1]);
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new ServerError("malformed_json", "the body is not valid JSON");
  }
}

/** Answers one HTTP request: C2S and MLS routes here, everything else (WebFinger, actors) through Fedify. */
export async function route(req: IncomingMessage, d: RouteDeps): Promise<Response> {
  const { paths, users } = d;
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", paths.origin);
  const target = paths.route(url.pathname);
  const known = target !== undefined && (target.kind === "sharedInbox" || users.exists(target.name));

  if (method === "POST") {
    const body = await readBody(req, d.bodyLimit);
    if (known && target.kind === "outbox") {
      requireOwner(req, users, target.name);
      const posted = await postToOutbox(d.deps, target.name, parseJson(body));
      if (!posted.ok) throw posted.error;
      return new Response(JSON.stringify(posted.value), {
        status: 201,
        headers: { "content-type": "application/activity+json", location: String(posted.value.id) },
      });
    }
    if (known && (target.kind === "inbox" || target.kind === "sharedInbox")) {
      const recipient = target.kind === "inbox" ? target.name : undefined;
      return receive(toRequest(req, paths.origin, body), parseJson(body), recipient, d.inboxDeps);
    }
    return errorResponse(404, "not_found", "nothing to post to here");
  }

  if (method === "GET" && known && target.kind !== "sharedInbox") {
    const name = target.name;
    switch (target.kind) {
      case "messages":
      case "inbox": {
        requireOwner(req, users, name);
        const messages = target.kind === "messages";
        return respondWithLog(toRequest(req, paths.origin), {
          log: messages ? d.logs.messages : d.logs.inbox,
          feed: messages ? d.logs.messagesFeed : d.logs.inboxFeed,
          owner: name,
          id: messages ? paths.messages(name) : paths.inbox(name),
        });
      }
      case "outbox":
        requireOwner(req, users, name);
        return respondWithLog(toRequest(req, paths.origin), {
          log: d.outbox,
          owner: name,
          id: paths.outbox(name),
        });
      case "keyPackages":
        return respondWithKeyPackages(d.keyPackages, {
          owner: paths.actor(name),
          id: paths.keyPackages(name),
        });
      case "objects":
      case "activities": {
        const keyPackage = await respondWithKeyPackage(d.keyPackages, target.id);
        if (keyPackage !== undefined) return keyPackage;
        const item = await (target.kind === "objects" ? d.objects : d.outbox).find(name, target.id);
        const visible =
          item !== undefined &&
          (addressees(item.activity).some(isPublicCollection) || tokenOwner(req, users) === name);
        return visible ? jsonResponse(item.activity) : errorResponse(404, "not_found", "no such object");
      }
      case "actor": {
        const response = await d.federation.fetch(toRequest(req, paths.origin), { contextData: {} });
        return withMlsActor(response, {
          keyPackages: paths.keyPackages(name),
          messages: paths.messages(name),
        });
      }
    }
  }
  return d.federation.fetch(toRequest(req, paths.origin), {
    contextData: {},
    onNotFound: () => errorResponse(404, "not_found", "no such resource"),
  });
}
