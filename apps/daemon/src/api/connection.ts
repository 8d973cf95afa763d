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
import type { WebSocket } from "ws";
import type { EventHub, EventSink, Subscription } from "./event-hub.js";
import type { PartialHandlers } from "./handlers.js";
import { type RateLimit, TokenBucket } from "./rate-limit.js";
import { tokenMatches } from "./token.js";

/** WebSocket close codes the server uses (4000-4999 are for applications). */
export const CLOSE = { unauthorized: 4401, flood: 4429 } as const;

export interface ConnectionOptions {
  readonly token: string;
  readonly handlers: PartialHandlers;
  readonly hub: EventHub;
  readonly rate: RateLimit;
  readonly authTimeoutMs: number;
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
  #refusedInRow = 0;

  constructor(ws: WebSocket, authenticated: boolean, options: ConnectionOptions) {
    this.#ws = ws;
    this.#options = options;
    this.#authenticated = authenticated;
    this.#bucket = new TokenBucket(options.rate, performance.now());
    if (!authenticated) {
      this.#authTimer = setTimeout(
        () => this.#refuse(null, "No token was given in time"),
        options.authTimeoutMs,
      );
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

  /** Applies the rate limit; a client that keeps going after being told closes itself out. */
  #limited(id: RequestId | null): boolean {
    const waitMs = this.#bucket.take(performance.now());
    if (waitMs === 0) {
      this.#refusedInRow = 0;
      return false;
    }
    this.#refusedInRow += 1;
    if (this.#refusedInRow > this.#options.rate.burst) {
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
      this.#refuse(id, "Authenticate first: send the token with the auth method");
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
    if (name === "auth") {
      if (!tokenMatches((params.data as { token: string }).token, this.#options.token)) {
        this.#refuse(id, "Wrong token");
        return;
      }
      this.#authenticated = true;
      clearTimeout(this.#authTimer);
    }
    const result = name === "auth" ? { ok: true } : await this.#call(name, params.data);
    if (hasId) this.#send(resultFrame(id, result));
    // Replay starts after the subscribe result went out, so a client sees the result first.
    if (name === "events.subscribe") this.#subscription?.start();
  }

  async #call(name: Exclude<MethodName, "auth">, params: unknown): Promise<unknown> {
    switch (name) {
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
    if (error instanceof ApiError) {
      this.#reply(id, error);
      return;
    }
    // Unknown failures may carry secrets or plaintext in their message: log the kind only.
    this.#options.log(`api: method failed: ${error instanceof Error ? error.name : typeof error}`);
    this.#reply(id, new ApiError("internal_error", "The daemon failed to handle the request"));
  }

  #refuse(id: RequestId | null, message: string): void {
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
