import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Collection, isActor } from "@fedify/vocab";
import { isJsonObject } from "@sotto/core";
import { ActivityFeed, errorResponse, MlsDeliveryError } from "@sotto/fedify";
import { SEQUENCED_DELIVERY } from "@sotto/shared/sequence";
import { openBackend } from "./backend.js";
import { DeliveryOrder } from "./deliveryOrder.js";
import { ServerError } from "./errors.js";
import { buildFederation, deliveryHandoff } from "./federation.js";
import { LogFollower } from "./follower.js";
import { fromIncoming, type RouteRequest, writeResponse } from "./http.js";
import type { InboxDeps } from "./inbox.js";
import { inProcessFetch } from "./inProcess.js";
import { MemoryKeyCache } from "./keyCache.js";
import { addressees, deliverLocally, type MailboxLogs } from "./mailboxes.js";
import type { OutboxDeps, Resolved } from "./outbox.js";
import { makePaths } from "./paths.js";
import { DrainableQueue } from "./queue.js";
import { route } from "./routes.js";
import { Users } from "./users.js";

export interface ServerOptions {
  /** Where the SQLite database lives; created if missing. Not needed with `database`. */
  readonly dataDir?: string;
  /**
   * `mysql://user:password@host:port/name`: keep everything in this MariaDB/MySQL database instead of a SQLite
   * file, with `@fedify/mysql`'s KV store and our MariaDB delivery queue (several processes can share it).
   */
  readonly database?: string;
  /** TCP port; 0 (the default) lets the OS choose. */
  readonly port?: number;
  /** Address to bind; 127.0.0.1 by default. */
  readonly host?: string;
  /** Public origin (behind a TLS proxy in production); defaults to http://host:port. */
  readonly origin?: string;
  /** The host part of handles (acct:user@domain); defaults to the origin's host. */
  readonly domain?: string;
  /** Largest accepted request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Fetch private/loopback addresses; defaults to true only when the origin is on loopback. */
  readonly allowPrivateAddress?: boolean;
  /** Disk sync of each commit: `full` (default, survives power loss) or `normal` (survives restarts). */
  readonly synchronous?: "full" | "normal";
  /** Server-Sent Event streams one user may hold open per collection (`messages`, `inbox`); default 16. */
  readonly sseStreamsPerUser?: number;
  /**
   * What this process does (with `database`, several of each may share it): `web` answers HTTP (C2S, the S2S
   * inbox, SSE) and queues deliveries, `worker` delivers what is queued, `all` (the default) both.
   */
  readonly role?: ServerRole;
}

export type ServerRole = "web" | "worker" | "all";

export interface SottoServer {
  readonly origin: string;
  readonly domain: string;
  /** Creates a local user and issues a first bearer token. */
  createUser(name: string): Promise<{ actorId: string; token: string }>;
  /**
   * Answers requests for this server's origin in-process, through the same routes as HTTP (inProcess.ts): for
   * clients in the same process. Other origins are refused (TypeError), as is everything once closed.
   */
  readonly fetch: typeof globalThis.fetch;
  close(): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const RESOLVE_TTL_MS = 5 * 60 * 1000;
const CLOSE_GRACE_MS = 2000;

function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || hostname.startsWith("127.")
  );
}

/** Resolves when all `work` has settled or `ms` have passed, whichever comes first. */
async function settledWithin(work: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(work),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Starts sotto-server: resolves once it listens (a worker: once its queue runs). */
export async function startServer(options: ServerOptions): Promise<SottoServer> {
  const role = options.role ?? "all";
  if (role !== "all" && options.database === undefined) {
    throw new ServerError(
      "invalid_config",
      `role ${role} needs a database the other processes share (database: mysql://...); with SQLite, run one process (role all)`,
    );
  }
  const serves = role !== "worker";
  const delivers = role !== "web";
  if (!serves && options.origin === undefined) {
    throw new ServerError("invalid_config", "a worker needs origin: the public URL its web processes serve");
  }
  const host = options.host ?? "127.0.0.1";
  const http = createServer();
  // The port listens before the database is open (an OS-chosen port makes the origin); until the server is
  // ready, requests get 503 with Retry-After. Left unanswered (no request listener yet), a peer's delivery
  // hung until its client gave up (undici: 5 minutes), holding up its sender's next deliveries to this server.
  let serve: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (serve !== undefined) return serve(req, res);
    const starting = errorResponse(503, "starting", "the server is starting: try again in a second");
    starting.headers.set("retry-after", "1");
    starting.headers.set("connection", "close");
    void writeResponse(res, starting).catch(() => res.destroy());
  });
  let port = options.port ?? 0;
  if (serves) {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(port, host, () => resolve());
    });
    port = (http.address() as AddressInfo).port;
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const origin = (options.origin ?? `http://${hostPart}:${port}`).replace(/\/+$/, "");
  const originUrl = new URL(origin);
  const domain = options.domain ?? originUrl.host;
  const paths = makePaths(origin);

  let backend: Awaited<ReturnType<typeof openBackend>>;
  try {
    backend = await openBackend(options);
  } catch (error) {
    http.close();
    throw error;
  }
  const { store } = backend;
  const users = new Users(store.accounts);
  const feedOptions =
    options.sseStreamsPerUser === undefined ? {} : { maxPerOwner: options.sseStreamsPerUser };
  // Several web processes on one database: each publishes to its streams what any of them stored, read back
  // in order from the shared logs (a message stored through web A reaches a stream on web B).
  const followed = options.database !== undefined;
  const followers: LogFollower[] = [];
  const logs: MailboxLogs = {
    followed,
    wakeFollowers: () => {
      for (const follower of followers) follower.wake();
    },
    inbox: store.inbox,
    inboxFeed: new ActivityFeed(feedOptions),
    messages: store.messages,
    messagesFeed: new ActivityFeed(feedOptions),
    // One commit for both: a received MLS message costs one disk sync, not two.
    appendReceived: (owner, id, activity, mls) => store.receive(owner, id, activity, mls),
  };

  // Inbox activities are handled synchronously (202 means stored); deliveries go through this queue.
  const deliveries = new DrainableQueue(backend.queue);
  const federation = buildFederation({
    kv: backend.kv,
    queue: deliveries,
    users,
    paths,
    domain,
    allowPrivateAddress: options.allowPrivateAddress ?? isLoopback(originUrl.hostname),
  });
  const queue = new AbortController();
  // Web processes only queue (Fedify's manuallyStartQueue); workers deliver.
  const queueDone = delivers ? federation.startQueue({}, { signal: queue.signal }) : Promise.resolve();
  if (serves && followed) {
    followers.push(
      new LogFollower(store.inbox, logs.inboxFeed),
      new LogFollower(store.messages, logs.messagesFeed),
    );
  }
  for (const follower of followers) await follower.start();
  const context = federation.createContext(new URL(origin), {});
  const inboxDeps: InboxDeps = {
    documentLoader: context.documentLoader,
    contextLoader: context.contextLoader,
    keyCache: new MemoryKeyCache(),
    order: new DeliveryOrder(),
    deliver: async (activity, recipient, written) => {
      const named =
        recipient !== undefined
          ? [recipient]
          : addressees(activity)
              .map((iri) => paths.localActor(iri))
              .filter((u): u is string => u !== undefined);
      const owners: string[] = [];
      for (const owner of new Set(named)) {
        if (recipient !== undefined || (await users.exists(owner))) owners.push(owner);
      }
      // Each owner's append is issued at once (a write of its own in the group commit); then the next delivery
      // of a pipelined stream may issue its own into the same commit, after these.
      const stored = Promise.all(owners.map((owner) => deliverLocally(logs, owner, activity)));
      if (backend.sharedCommits) written?.();
      await stored;
    },
  };

  const resolved = new Map<string, { value: Resolved; until: number }>();
  const deps: OutboxDeps = {
    paths,
    userExists: (name) => users.exists(name),
    store,
    logs,
    resolve: async (iri) => {
      const cached = resolved.get(iri);
      if (cached !== undefined && cached.until > Date.now()) return cached.value;
      // The actor document as fetched, for what Fedify's vocabulary drops: whether its server keeps the order
      // of pipelined deliveries.
      const fetched: unknown[] = [];
      const found = await context
        .lookupObject(iri, {
          documentLoader: async (url, options) => {
            const remote = await context.documentLoader(url, options);
            fetched.push(remote.document);
            return remote;
          },
        })
        .catch(() => null);
      const sequenced = fetched.some(
        (d) => isJsonObject(d) && d.id === found?.id?.href && d[SEQUENCED_DELIVERY] === 1,
      );
      const value: Resolved =
        found === null
          ? undefined
          : isActor(found)
            ? { kind: "actor", recipient: found, sequenced }
            : found instanceof Collection
              ? { kind: "collection" }
              : undefined;
      // Parsed actors are kept a few minutes: parsing JSON-LD costs more than the rest of a post.
      if (value !== undefined) resolved.set(iri, { value, until: Date.now() + RESOLVE_TTL_MS });
      return value;
    },
    handoff: deliveryHandoff(federation, origin, users, deliveries),
    sharedCommits: backend.sharedCommits,
  };

  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const outboxOrder = backend.sharedCommits ? new DeliveryOrder() : undefined;
  // Requests being handled, so that close() lets them finish (bounded) before the database closes.
  const requests = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    requests.add(work);
    const done = () => requests.delete(work);
    work.then(done, done);
    return work;
  };
  const respond = (req: RouteRequest): Promise<Response> =>
    route(req, { paths, users, store, logs, deps, inboxDeps, bodyLimit, federation, outboxOrder }).catch(
      (error: unknown) => {
        if (error instanceof ServerError || error instanceof MlsDeliveryError) {
          return errorResponse(error.status, error.code, error.message);
        }
        // Unexpected: answer 500 without echoing anything the client sent.
        process.stderr.write(`sotto-server: ${error instanceof Error ? error.stack : String(error)}\n`);
        return errorResponse(500, "internal_error", "the server failed to handle the request");
      },
    );
  serve = (req, res) => {
    void track(
      respond(fromIncoming(req))
        .then((response) => writeResponse(res, response))
        .catch(() => res.destroy()),
    );
  };

  let closed = false;
  return {
    origin,
    domain,
    fetch: inProcessFetch(origin, (req) =>
      closed ? Promise.reject(new TypeError("sotto-server is closed")) : track(respond(req)),
    ),
    async createUser(name) {
      await users.add(name);
      return { actorId: paths.actor(name), token: await users.issueToken(name) };
    },
    async close() {
      if (closed) return;
      closed = true;
      // 1. Stop accepting: no new connections, SSE streams end, idle keep-alive sockets close.
      for (const follower of followers) await follower.stop();
      logs.inboxFeed.close();
      logs.messagesFeed.close();
      await new Promise((resolve) => setImmediate(resolve));
      const stopped = serves
        ? new Promise<void>((resolve) => http.close(() => resolve()))
        : Promise.resolve();
      http.closeIdleConnections();
      // 2. Requests still running get a moment to finish (a post is then stored, queued and answered).
      await settledWithin([...requests], CLOSE_GRACE_MS);
      http.closeAllConnections();
      await stopped;
      // 3. Stop polling, then let running deliveries finish or go back to the queue.
      queue.abort();
      await new Promise((resolve) => setImmediate(resolve));
      // The loop ends once its deliveries have; one it claimed while stopping never settles, so the wait is
      // bounded too (that claim goes back to the queue when the database closes).
      if ((await deliveries.close(CLOSE_GRACE_MS)) === "drained")
        await settledWithin([queueDone], CLOSE_GRACE_MS);
      // 4. Only now the database.
      await backend.close();
      // One turn of the event loop, so that clients in this process see their sockets closed before reuse.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
