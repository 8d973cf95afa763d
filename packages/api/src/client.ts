// SottoClient: the typed client of sottod's API, for Node and browsers. It speaks to any WHATWG-style
// WebSocket (the global one in browsers and Node 24, else `ws`), reconnects on its own, and resumes its event
// subscription from the last seq it saw, so every event is delivered once and in order across reconnects.
import { SottoError } from "@sotto/shared/errors";
import { ApiError } from "./errors.js";
import { type ApiEvent, EVENT_METHOD } from "./events.js";
import { EventNotification, RpcResponse } from "./jsonrpc.js";
import { type MethodName, methods, type ParamsIn, type Result } from "./methods.js";

export type ClientErrorCode =
  | "connection_failed" // could not open the WebSocket (daemon down, refused: wrong token, Host or Origin)
  | "connection_closed" // the connection dropped before the answer came
  | "timeout" // no answer within requestTimeoutMs
  | "invalid_response" // the daemon answered something outside the contract
  | "closed"; // close() was called

/** A failure on the client's side of the wire (the daemon's own errors are `ApiError`s). */
export class ClientError extends SottoError<ClientErrorCode> {}

/** The part of the WHATWG WebSocket the client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => SocketLike;

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** A value, or a function that gives it anew for every connection attempt. */
export type Fresh<T> = T | (() => T | Promise<T>);

export interface SottoClientOptions {
  /**
   * e.g. ws://127.0.0.1:7471/ (sottod writes it to `api.json` in its state dir). A function is asked again
   * before every (re)connect, so a client follows a daemon restarted on another port (read `api.json` in it).
   */
  readonly url: Fresh<string>;
  /** The bearer token (sottod's `api-token` file); a function is asked again before every (re)connect. */
  readonly token: Fresh<string>;
  /**
   * How the token travels: "protocol" (default: a `Sec-WebSocket-Protocol` value, works in browsers) or
   * "frame" (an `auth` request as the first frame).
   */
  readonly auth?: "protocol" | "frame";
  /** Defaults to the global WebSocket, else the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  /** Reconnect after a drop (default on), with exponential backoff between these bounds. */
  readonly reconnect?: false | { readonly minDelayMs?: number; readonly maxDelayMs?: number };
  readonly requestTimeoutMs?: number;
}

export const API_PROTOCOL = "sotto.v1";
export const TOKEN_PROTOCOL_PREFIX = "bearer.";

interface Pending {
  readonly method: MethodName;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

export class SottoClient {
  readonly #options: SottoClientOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #pending = new Map<number, Pending>();
  readonly #eventListeners = new Set<(event: ApiEvent) => void>();
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  #socket: SocketLike | undefined;
  #state: ConnectionState = "connecting";
  #nextId = 1;
  #ready: Promise<void> = Promise.resolve();
  #settleReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #everOpened = false;
  #subscribed = false;
  #lastSeq: number | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #url: string | undefined;

  private constructor(options: SottoClientOptions, WebSocket: WebSocketConstructor) {
    this.#options = options;
    this.#WebSocket = WebSocket;
  }

  /** Connects (and authenticates); rejects with `ClientError("connection_failed")` if that fails. */
  static async connect(options: SottoClientOptions): Promise<SottoClient> {
    const client = new SottoClient(options, options.WebSocket ?? (await defaultWebSocket()));
    await client.#open();
    return client;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The address of the latest connection attempt (undefined before the first). */
  get url(): string | undefined {
    return this.#url;
  }

  /** The seq of the last event delivered to listeners (undefined before any subscription). */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** Calls a method. Rejects with `ApiError` (the daemon's answer) or `ClientError`. */
  async call<M extends MethodName>(method: M, ...args: ParamsArgs<M>): Promise<Result<M>> {
    if (this.#state === "closed") throw new ClientError("closed", "The client was closed");
    if (this.#state !== "open") await this.#ready;
    return this.#request(method, args[0] ?? {});
  }

  /**
   * Starts (or moves) the event subscription. With `since`, the daemon first replays every event after it.
   * Across reconnects the client resumes from the last seq it delivered.
   */
  async subscribe(options: { since?: number } = {}): Promise<{ head: number }> {
    if (this.#state !== "open") await this.#ready;
    this.#lastSeq = options.since;
    this.#subscribed = true;
    return this.#resubscribe();
  }

  async unsubscribe(): Promise<void> {
    this.#subscribed = false;
    await this.call("events.unsubscribe");
  }

  /** Listens to events; returns the function that stops listening. */
  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  close(): void {
    this.#setState("closed");
    clearTimeout(this.#retryTimer);
    this.#socket?.close(1000, "client closed");
    const closed = new ClientError("closed", "The client was closed");
    this.#settleReady?.reject(closed);
    this.#rejectAll(closed);
  }

  async #resubscribe(): Promise<{ head: number }> {
    const since = this.#lastSeq;
    const result = await this.#request("events.subscribe", since === undefined ? {} : { since });
    // The daemon sends the result before any event of this subscription, so nothing was delivered meanwhile.
    // A head below our position means the daemon's log was reset: follow it rather than drop its events.
    if (this.#lastSeq === undefined || this.#lastSeq > result.head) this.#lastSeq = result.head;
    return result;
  }

  #request<M extends MethodName>(method: M, params: unknown): Promise<Result<M>> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) {
      return Promise.reject(new ClientError("connection_closed", "Not connected to the daemon"));
    }
    const id = this.#nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      const timeoutMs = this.#options.requestTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ClientError("timeout", `${method} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  async #open(): Promise<void> {
    let url: string;
    let token: string;
    try {
      [url, token] = await Promise.all([fresh(this.#options.url), fresh(this.#options.token)]);
    } catch (error) {
      // Where the daemon is cannot be read now (api.json missing while it restarts): try again later.
      if (this.#everOpened && this.#state !== "closed") this.#scheduleReconnect();
      throw new ClientError("connection_failed", "Cannot find the daemon's address or token", {
        cause: error,
      });
    }
    this.#url = url;
    return new Promise<void>((resolve, reject) => {
      const mode = this.#options.auth ?? "protocol";
      const protocols =
        mode === "protocol" ? [API_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`] : [API_PROTOCOL];
      let socket: SocketLike;
      try {
        socket = new this.#WebSocket(url, protocols);
      } catch (error) {
        reject(new ClientError("connection_failed", `Cannot connect to ${url}`, { cause: error }));
        return;
      }
      this.#socket = socket;
      let opened = false;
      socket.onmessage = (event) => this.#onFrame(event.data);
      socket.onerror = () => {};
      socket.onopen = () => {
        const authenticated = mode === "frame" ? this.#request("auth", { token }) : Promise.resolve();
        authenticated.then(
          () => {
            opened = true;
            this.#everOpened = true;
            this.#attempt = 0;
            this.#setState("open");
            resolve();
          },
          (error: unknown) => {
            reject(new ClientError("connection_failed", "The daemon refused the token", { cause: error }));
          },
        );
      };
      socket.onclose = (event) => {
        this.#rejectAll(new ClientError("connection_closed", `The connection closed (${event.code})`));
        if (!opened) {
          reject(new ClientError("connection_failed", `Cannot connect to ${url} (${event.code})`));
        }
        if (this.#socket === socket) this.#socket = undefined;
        if (!this.#everOpened) this.#setState("closed");
        else if (this.#state !== "closed") this.#scheduleReconnect();
      };
    });
  }

  #scheduleReconnect(): void {
    if (this.#options.reconnect === false) {
      this.#setState("closed");
      return;
    }
    this.#setState("reconnecting");
    const min = this.#options.reconnect?.minDelayMs ?? 100;
    const max = this.#options.reconnect?.maxDelayMs ?? 5000;
    const delay = Math.min(max, min * 2 ** this.#attempt) * (0.75 + Math.random() / 2);
    this.#attempt += 1;
    if (this.#settleReady === undefined) {
      // Calls made while reconnecting wait for the connection (or fail when the client is closed).
      this.#ready = new Promise<void>((resolve, reject) => {
        this.#settleReady = { resolve, reject };
      });
      this.#ready.catch(() => {});
    }
    this.#retryTimer = setTimeout(() => {
      this.#open().then(
        async () => {
          if (this.#subscribed) await this.#resubscribe().catch(() => {});
          this.#settleReady?.resolve();
          this.#settleReady = undefined;
        },
        () => {}, // onclose already scheduled the next attempt
      );
    }, delay);
  }

  #onFrame(data: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      return; // the daemon only sends JSON; nothing to answer
    }
    if (typeof message === "object" && message !== null && "method" in message) {
      if ((message as { method: unknown }).method !== EVENT_METHOD) return;
      const notification = EventNotification.safeParse(message);
      if (notification.success) this.#deliver(notification.data.params);
      else this.#skip((message as { params?: { seq?: unknown } }).params?.seq);
      return;
    }
    const response = RpcResponse.safeParse(message);
    if (!response.success || typeof response.data.id !== "number") return;
    const pending = this.#pending.get(response.data.id);
    if (!pending) return;
    this.#pending.delete(response.data.id);
    clearTimeout(pending.timer);
    if ("error" in response.data) {
      pending.reject(ApiError.fromRpc(response.data.error));
      return;
    }
    const result = methods[pending.method].result.safeParse(response.data.result);
    if (result.success) pending.resolve(result.data);
    else pending.reject(new ClientError("invalid_response", `${pending.method} answered outside its schema`));
  }

  /** Exactly once, in order: anything at or before the last delivered seq is a replayed duplicate. */
  #deliver(event: ApiEvent): void {
    if (this.#lastSeq !== undefined && event.seq <= this.#lastSeq) return;
    this.#lastSeq = event.seq;
    for (const listener of this.#eventListeners) {
      try {
        listener(event);
      } catch (error) {
        // One failing listener must not keep the event from the others: report it like an uncaught error.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** An event this client cannot read (a newer daemon's type): not delivered, but not asked for again either. */
  #skip(seq: unknown): void {
    if (typeof seq === "number" && Number.isInteger(seq) && seq > (this.#lastSeq ?? -1)) this.#lastSeq = seq;
  }

  #rejectAll(error: ClientError): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state || this.#state === "closed") return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }
}

async function fresh<T>(value: Fresh<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : value;
}

/** Methods without params may be called with none. */
type ParamsArgs<M extends MethodName> =
  Record<string, never> extends ParamsIn<M> ? [params?: ParamsIn<M>] : [params: ParamsIn<M>];

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  const ws = await import("ws");
  return ws.WebSocket as unknown as WebSocketConstructor;
}
