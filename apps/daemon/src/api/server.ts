// The local API server: WebSocket + JSON-RPC 2.0 on loopback only. Every handshake is checked before it
// becomes a WebSocket: Host (DNS rebinding), Origin (other web pages), token (other local users), and the
// number of connections. A handshake with the token takes a slot of the main pool; one without it (a browser
// that sends the token as its first frame) waits in a small pool of its own with a short deadline, so local
// processes without the token can never take the token holder's slots.
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { API_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from "@sotto/api";
import { WebSocketServer } from "ws";
import { type WebOptions, webListener } from "../web.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { type Credentials, createCredentials } from "./credentials.js";
import { ApiServerError } from "./errors.js";
import { EventHub, type EventLog } from "./event-hub.js";
import type { PartialHandlers } from "./handlers.js";
import { allowedHosts, assertLoopbackBind, isAllowedHost, isAllowedOrigin } from "./loopback.js";
import type { RateLimit } from "./rate-limit.js";

export interface ApiServerOptions {
  /** The daemon's methods (see `Handlers`); a missing one answers `method_not_found`. */
  readonly handlers: PartialHandlers;
  readonly events: EventLog;
  readonly token: string;
  /** Loopback addresses to listen on; default 127.0.0.1 and ::1 (::1 is skipped where IPv6 is off). */
  readonly hosts?: readonly string[];
  /** Default 0: the OS picks a free port. */
  readonly port?: number;
  /** Browser origins allowed to connect, e.g. "http://localhost:5173". Default: none. */
  readonly origins?: readonly string[];
  /** Largest accepted frame; larger ones close the connection (1009). Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** Per-connection request rate. Default 500 at once, 1000/s. */
  readonly rate?: RateLimit;
  /** Authenticated connections at most (token in the handshake, or authenticated since). Default 256. */
  readonly maxConnections?: number;
  /**
   * Connections opened without a token that have not sent the `auth` frame yet. When they are this many, a new
   * one closes the oldest (which had its chance). Default 16.
   */
  readonly maxPendingConnections?: number;
  /** How long a connection without a token in its handshake has to send the `auth` frame. Default 2 s. */
  readonly authTimeoutMs?: number;
  readonly log?: (message: string) => void;
  /** Serve the web UI on the same port (its origins are then allowed); default: none. */
  readonly web?: WebOptions;
}

export interface ApiServer {
  readonly port: number;
  /** The addresses actually listened on. */
  readonly hosts: readonly string[];
  /** ws://127.0.0.1:<port>/ (or the first host). */
  readonly url: string;
  /** http://127.0.0.1:<port>/ when the web UI is served. */
  readonly webUrl: string | null;
  readonly connections: number;
  close(): Promise<void>;
}

const DEFAULT_HOSTS = ["127.0.0.1", "::1"];

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const hosts = options.hosts ?? DEFAULT_HOSTS;
  assertLoopbackBind(hosts);
  const log = options.log ?? (() => {});
  const origins = new Set(options.origins ?? []);
  const maxConnections = options.maxConnections ?? 256;
  const maxPending = options.maxPendingConnections ?? 16;
  const hub = await EventHub.open(options.events, {
    onError: (error) => log(`api: event delivery failed: ${error instanceof Error ? error.message : error}`),
  });
  const credentials = createCredentials(options.token);
  let webUrl: string | null = null;
  const connectionOptions: ConnectionOptions = {
    credentials,
    webUrl: () => webUrl,
    handlers: options.handlers,
    hub,
    rate: options.rate ?? { burst: 500, perSecond: 1000 },
    authTimeoutMs: options.authTimeoutMs ?? 2000,
    highWaterMark: 1 << 20,
    log,
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes ?? 1 << 20,
    perMessageDeflate: false,
    // Select our protocol name; never echo the token back.
    handleProtocols: (offered) => (offered.has(API_PROTOCOL) ? API_PROTOCOL : false),
  });
  const live = new Set<Connection>();
  /** Connections waiting for their `auth` frame, oldest first (a Set keeps insertion order). */
  const pending = new Set<Connection>();

  let servers: { server: Server; host: string }[] = [];
  let port = options.port ?? 0;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener from upgraded sockets: a peer resetting mid-handshake must not crash us.
    socket.on("error", () => socket.destroy());
    let refusal = checkHandshake(request, {
      hosts: allowedHosts(port, hosts),
      origins,
      credentials,
    });
    if (refusal === "authenticated" && live.size >= maxConnections) {
      refusal = { status: "503 Service Unavailable", reason: "too many connections" };
    }
    if (typeof refusal === "object") {
      log(`api: refused a handshake: ${refusal.reason}`);
      socket.end(`HTTP/1.1 ${refusal.status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const authenticated = refusal === "authenticated";
    if (!authenticated && pending.size >= maxPending) {
      const oldest = pending.values().next().value;
      if (oldest !== undefined) {
        pending.delete(oldest);
        oldest.refuse("Too many connections are waiting to authenticate; send the token sooner");
      }
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection: Connection = new Connection(ws, authenticated, {
        ...connectionOptions,
        onAuthenticated: () => {
          pending.delete(connection);
          live.add(connection);
        },
      });
      (authenticated ? live : pending).add(connection);
      ws.on("close", () => {
        live.delete(connection);
        pending.delete(connection);
      });
    });
  };

  const http =
    options.web === undefined ? undefined : webListener(options.web, () => allowedHosts(port, hosts));
  ({ servers, port } = await listenAll(hosts, port, onUpgrade, http));
  const first = servers[0]?.host ?? "127.0.0.1";
  const authority = `${first.includes(":") ? `[${first}]` : first}:${port}`;
  if (http !== undefined) {
    webUrl = `http://${authority}/`;
    // The daemon's own pages may connect: every name a browser may use for it.
    for (const host of allowedHosts(port, hosts)) origins.add(`http://${host}`);
  }
  return {
    port,
    hosts: servers.map((s) => s.host),
    url: `ws://${authority}/`,
    webUrl,
    get connections() {
      return live.size + pending.size;
    },
    async close() {
      hub.close();
      for (const connection of [...live, ...pending]) connection.close();
      wss.close();
      await Promise.all(servers.map(({ server }) => closeServer(server)));
    },
  };
}

interface HandshakeRules {
  readonly hosts: ReadonlySet<string>;
  readonly origins: ReadonlySet<string>;
  readonly credentials: Credentials;
}

/** "authenticated" (token in the handshake), "pending" (expects an auth frame) or why it is refused. */
export function checkHandshake(
  request: IncomingMessage,
  rules: HandshakeRules,
): "authenticated" | "pending" | { status: string; reason: string } {
  if (!isAllowedHost(request.headers.host, rules.hosts)) {
    return { status: "403 Forbidden", reason: "Host is not a loopback name for this port (DNS rebinding?)" };
  }
  if (!isAllowedOrigin(request.headers.origin, rules.origins)) {
    return { status: "403 Forbidden", reason: "Origin is not on the allow-list" };
  }
  const given = handshakeToken(request);
  if (given === undefined) return "pending";
  if (!rules.credentials.accepts(given)) return { status: "401 Unauthorized", reason: "wrong token" };
  return "authenticated";
}

function handshakeToken(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization?.toLowerCase().startsWith("bearer ")) return authorization.slice(7).trim();
  const protocols = request.headers["sec-websocket-protocol"]?.split(",").map((p) => p.trim()) ?? [];
  const bearer = protocols.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return bearer?.slice(TOKEN_PROTOCOL_PREFIX.length);
}

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Listens on every host with one port (the first host's, when port is 0); retries if another host has it taken. */
async function listenAll(
  hosts: readonly string[],
  port: number,
  onUpgrade: UpgradeListener,
  http: RequestListener = answerNotHttp,
): Promise<{ servers: { server: Server; host: string }[]; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const servers: { server: Server; host: string }[] = [];
    let bound = port;
    try {
      for (const host of hosts) {
        const server = createServer(http);
        server.on("upgrade", onUpgrade);
        const actual = await listen(server, host, bound);
        if (actual === undefined) continue; // this address family is not configured here
        bound = actual;
        servers.push({ server, host });
      }
      if (servers.length === 0)
        throw new ApiServerError("bind_failed", "None of the API addresses exists here");
      return { servers, port: bound };
    } catch (error) {
      await Promise.all(servers.map(({ server }) => closeServer(server)));
      const inUse = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (inUse && port === 0 && attempt < 5) continue;
      if (error instanceof ApiServerError) throw error;
      throw new ApiServerError("bind_failed", `Cannot listen on port ${bound}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

const answerNotHttp: RequestListener = (_request, response) => {
  response.writeHead(426, { "content-type": "text/plain", connection: "close" });
  response.end("This is the sottod API: connect with a WebSocket.\n");
};

function listen(server: Server, host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRNOTAVAIL" || error.code === "EAFNOSUPPORT") resolve(undefined);
      else reject(error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
