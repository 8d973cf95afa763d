// One WebSocket connection: authentication, rate limiting, JSON-RPC dispatch and its event subscription.
// Bad input is answered with a JSON-RPC error and the connection stays; only a wrong token or a sustained flood
// closes it.
import {
  ApiError,
  errorFrame,
  isMethodName,
  type MethodName,
  methods,
  type RequestId,
  RpcRequest,
  resultFrame,
} from "@sotto/api";
import { SottoError } from "@sotto/core";
import type { WebSocket } from "ws";
import { storeToApi } from "../errors.js";
import type { Credentials } from "./credentials.js";
import type { EventHub, EventSink, Subscription } from "./event-hub.js";
import type { PartialHandlers } from "./handlers.js";
import { type RateLimit, TokenBucket } from "./rate-limit.js";

/** WebSocket close codes the server uses (4000-4999 are for applications). */
export const CLOSE = { unauthorized: 4401, flood: 4429 } as const;

/**
 * A connection that keeps being refused is closed: when its refusals go on for this long (no pause of
 * `FLOOD_PAUSE_MS` between two), or when more than `rate.burst` of them come without such a pause. Counting
 * refusals in a row never closed one, since a token comes back every millisecond; a client that waits the
 * `retryAfterMs` it is told pauses its refusals.
 */
export const FLOOD_WINDOW_MS = 1000;
const FLOOD_PAUSE_MS = 100;

export interface ConnectionOptions {
  readonly credentials: Credentials;
  /** The web UI's URL, for `auth.code`; null when the daemon serves none. */
  readonly webUrl: () => string | null;
  readonly handlers: PartialHandlers;
  readonly hub: EventHub;
  readonly rate: RateLimit;
  readonly authTimeoutMs: number;
  /** Called once a connection opened without a token has authenticated with its `auth` frame. */
  readonly onAuthenticated?: (() => void) | undefined;
  /** Bytes buffered towards a client beyond which event delivery waits for it. */
  readonly highWaterMark: number;
  readonly log: (message: string) => void;
}

export class Connection implements EventSink {
  readonly #ws: WebSocket;
  readonly #options: ConnectionOptions;
  readonly #bucket: TokenBucket;
  #authenticated: boolean;
  #authTimer: NodeJS.Timeout | undefined;
  #subscription: Subscription | undefined;
  /** The current run of refusals: when it started, its last refusal, how many. */
  #refusedSince = 0;
  #lastRefusal = Number.NEGATIVE_INFINITY;
  #refusals = 0;

  constructor(ws: WebSocket, authenticated: boolean, options: ConnectionOptions) {
    this.#ws = ws;
    this.#options = options;
    this.#authenticated = authenticated;
    this.#bucket = new TokenBucket(options.rate, performance.now());
    if (!authenticated) {
      this.#authTimer = setTimeout(() => this.refuse("No token was given in time"), options.authTimeoutMs);
    }
    ws.on("message", (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on("close", () => this.#dispose());
    // Oversized frames and protocol violations: ws closes the socket (1009 / 1002); nothing else to do.
    ws.on("error", (error) => options.log(`api: connection error: ${error.message}`));
  }

  get closed(): boolean {
    return this.#ws.readyState !== this.#ws.OPEN;
  }

  send(frame: string): void | Promise<void> {
    if (this.closed) return;
    if (this.#ws.bufferedAmount < this.#options.highWaterMark) {
      this.#ws.send(frame);
      return;
    }
    return new Promise((resolve) => this.#ws.send(frame, () => resolve()));
  }

  close(): void {
    this.#ws.terminate();
  }

  #dispose(): void {
    clearTimeout(this.#authTimer);
    if (this.#subscription) this.#options.hub.unsubscribe(this.#subscription);
    this.#subscription = undefined;
  }

  #onFrame(data: unknown, isBinary: boolean): void {
    if (isBinary) {
      if (!this.#limited(null))
        this.#reply(null, new ApiError("invalid_request", "Frames must be text (UTF-8 JSON)"));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      if (this.#limited(null)) return;
      this.#reply(null, new ApiError("parse_error", "The frame is not valid JSON"));
      return;
    }
    const parsed = RpcRequest.safeParse(json);
    const id = parsed.success ? (parsed.data.id ?? null) : idOf(json);
    if (this.#limited(id)) return;
    if (!parsed.success) {
      this.#reply(id, new ApiError("invalid_request", "Not a JSON-RPC 2.0 request (one object per frame)"));
      return;
    }
    this.#dispatch(parsed.data).catch((error) => {
      if (parsed.data.id !== undefined) this.#fail(id, error);
    });
  }

  /** Applies the rate limit; a client that keeps going after being told (see `FLOOD_WINDOW_MS`) is closed. */
  #limited(id: RequestId | null): boolean {
    const now = performance.now();
    const waitMs = this.#bucket.take(now);
    if (waitMs === 0) return false;
    if (now - this.#lastRefusal > FLOOD_PAUSE_MS) {
      this.#refusedSince = now;
      this.#refusals = 0;
    }
    this.#lastRefusal = now;
    this.#refusals += 1;
    if (this.#refusals > this.#options.rate.burst || now - this.#refusedSince >= FLOOD_WINDOW_MS) {
      this.#options.log("api: closing a connection that ignored the rate limit");
      this.#ws.close(CLOSE.flood, "rate limit exceeded");
    } else {
      this.#reply(id, new ApiError("rate_limited", "Too many requests", { retryAfterMs: waitMs }));
    }
    return true;
  }

  async #dispatch(request: RpcRequest): Promise<void> {
    const id = request.id ?? null;
    const hasId = request.id !== undefined;
    if (!this.#authenticated && request.method !== "auth") {
      this.refuse("Authenticate first: send the token with the auth method", id);
      return;
    }
    if (!isMethodName(request.method)) {
      if (hasId)
        this.#reply(id, new ApiError("method_not_found", `No method ${JSON.stringify(request.method)}`));
      return;
    }
    const name: MethodName = request.method;
    const params = methods[name].params.safeParse(request.params ?? {});
    if (!params.success) {
      const issues = params.error.issues.map(({ code, path, message }) => ({
        code,
        path: path.map((p) => (typeof p === "symbol" ? String(p) : p)),
        message,
      }));
      if (hasId) this.#reply(id, new ApiError("invalid_params", `Invalid params for ${name}`, { issues }));
      return;
    }
    let result: unknown;
    if (name === "auth") {
      const session = this.#authenticate(params.data as { token: string } | { code: string });
      if (session === undefined) {
        this.refuse(
          "Wrong token, or a login code that is spent or expired (ask `sotto web` for a new one)",
          id,
        );
        return;
      }
      this.#authenticated = true;
      clearTimeout(this.#authTimer);
      this.#options.onAuthenticated?.();
      result = session === true ? { ok: true } : { ok: true, session };
    } else {
      result = await this.#call(name, params.data);
    }
    if (hasId) this.#send(resultFrame(id, result));
    // Replay starts after the subscribe result went out, so a client sees the result first.
    if (name === "events.subscribe") this.#subscription?.start();
  }

  /** true for a good token, a session for a good login code, undefined when refused. */
  #authenticate(params: { token: string } | { code: string }): true | string | undefined {
    const { credentials } = this.#options;
    if ("token" in params) return credentials.accepts(params.token) ? true : undefined;
    return credentials.trade(params.code);
  }

  async #call(name: Exclude<MethodName, "auth">, params: unknown): Promise<unknown> {
    switch (name) {
      case "auth.code": {
        const { code, expiresAt } = this.#options.credentials.issueCode();
        const web = this.#options.webUrl();
        return { code, expiresAt: expiresAt.toISOString(), url: web === null ? null : `${web}#code=${code}` };
      }
      case "events.subscribe": {
        const { since } = params as { since?: number };
        if (this.#subscription) this.#options.hub.unsubscribe(this.#subscription);
        const { subscription, head } = await this.#options.hub.subscribe(this, since);
        this.#subscription = subscription;
        return { head };
      }
      case "events.unsubscribe":
        if (this.#subscription) this.#options.hub.unsubscribe(this.#subscription);
        this.#subscription = undefined;
        return { ok: true };
      default: {
        const handler = this.#options.handlers[name] as ((p: unknown) => unknown) | undefined;
        if (!handler) throw new ApiError("method_not_found", `${name} is not available in this daemon`);
        const result = await handler(params);
        // The daemon's answers are checked against the contract too: a client never sees an off-schema result.
        const checked = methods[name].result.safeParse(result);
        if (!checked.success) {
          this.#options.log(`api: ${name} returned a result outside its schema: ${checked.error.message}`);
          throw new ApiError("internal_error", `${name} failed`);
        }
        return checked.data;
      }
    }
  }

  #fail(id: RequestId | null, error: unknown): void {
    const typed = error instanceof ApiError ? error : storeToApi(error);
    if (typed !== undefined) {
      if (typed.code === "tampered") this.#options.log(`api: ${typed.message}`);
      this.#reply(id, typed);
      return;
    }
    // Typed errors say what failed without secrets (their code; class names are minified in the bundle);
    // other failures may carry secrets or plaintext in their message: log the kind only.
    this.#options.log(
      `api: method failed: ${error instanceof SottoError ? error.code : error instanceof Error ? "unexpected error" : typeof error}`,
    );
    this.#reply(id, new ApiError("internal_error", "The daemon failed to handle the request"));
  }

  /** Answers `unauthorized` and closes the connection (4401). */
  refuse(message: string, id: RequestId | null = null): void {
    this.#reply(id, new ApiError("unauthorized", message));
    this.#ws.close(CLOSE.unauthorized, "unauthorized");
  }

  #reply(id: RequestId | null, error: ApiError): void {
    this.#send(errorFrame(id, error.toJSON()));
  }

  #send(frame: string): void {
    if (!this.closed) this.#ws.send(frame);
  }
}

function idOf(json: unknown): RequestId | null {
  if (typeof json !== "object" || json === null || !("id" in json)) return null;
  const id = (json as { id: unknown }).id;
  return typeof id === "string" || (typeof id === "number" && Number.isInteger(id)) ? id : null;
}
