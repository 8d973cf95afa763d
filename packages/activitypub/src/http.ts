import { getUserAgent, UrlError, validatePublicUrl } from "@fedify/vocab-runtime";
import { ActivityPubError, codeForStatus } from "./errors.js";
import { backoffDelay, defaultRetryPolicy, parseRetryAfter, type RetryPolicy, sleep } from "./retry.js";
import { nodeFetch } from "./transport.js";

export const activityJson = "application/activity+json";
const acceptActivity = `${activityJson}, application/ld+json; profile="https://www.w3.org/ns/activitystreams", application/json;q=0.5`;

export interface HttpOptions {
  /** How requests are made (default: `nodeFetch`, node:http(s) with keep-alive; transport.ts). */
  readonly fetch?: typeof globalThis.fetch;
  /** Per attempt: until the whole body is read, or until the headers for a stream. */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Loopback and private addresses are refused unless this is set (tests, a home LAN). */
  readonly allowPrivateAddress?: boolean;
  readonly userAgent?: string;
  /** Bodies larger than this are refused (`invalid_response`). */
  readonly maxBodyBytes?: number;
  /** Source of randomness for the jitter (tests may pin it). */
  readonly random?: () => number;
}

export interface HttpRequest {
  readonly method?: "GET" | "POST";
  readonly accept?: string;
  /** Bearer token for owner-only resources and the outbox. */
  readonly token?: string;
  /** Serialised as JSON with `content-type: application/activity+json`. */
  readonly json?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface HttpJsonResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/**
 * The one place that talks HTTP: timeouts, retries with backoff and jitter, `Retry-After`, the private-address
 * guard and the mapping of failures onto {@link ActivityPubError}. GETs are retried on network errors, 5xx and
 * 429; POSTs only when the server says it did not take the request (429, or 503 with `Retry-After`), since a
 * POST that timed out may have been stored: the daemon's outbox decides about those.
 */
export class Http {
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #allowPrivateAddress: boolean;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  readonly #random: () => number;

  constructor(options: HttpOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#retry = { ...defaultRetryPolicy, ...options.retry };
    this.#allowPrivateAddress = options.allowPrivateAddress ?? false;
    this.#userAgent = options.userAgent ?? getUserAgent({ software: "Sotto/0.1" });
    this.#maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.#random = options.random ?? Math.random;
    this.#fetch =
      options.fetch ?? nodeFetch({ maxBodyBytes: this.#maxBodyBytes, guard: (url) => this.#guard(url) });
  }

  get allowPrivateAddress(): boolean {
    return this.#allowPrivateAddress;
  }

  get userAgent(): string {
    return this.#userAgent;
  }

  /** Sends a request and reads a JSON body (an empty body reads as `null`). The timeout covers the body. */
  json(url: string, request: HttpRequest = {}): Promise<HttpJsonResponse> {
    return this.#withRetry(request, async (signal) => {
      const response = await this.#send(url, request, signal);
      const text = await this.#readText(response, url);
      if (text.trim() === "")
        return { url: response.url || url, status: response.status, headers: response.headers, body: null };
      try {
        return {
          url: response.url || url,
          status: response.status,
          headers: response.headers,
          body: JSON.parse(text) as unknown,
        };
      } catch (cause) {
        throw new ActivityPubError(
          "invalid_response",
          `response from ${url} is not JSON`,
          { url, status: response.status },
          { cause },
        );
      }
    });
  }

  /**
   * Opens a response whose body the caller streams (Server-Sent Events). The timeout covers only the wait for
   * the headers; the returned `close` aborts the body.
   */
  stream(url: string, request: HttpRequest = {}): Promise<{ response: Response; close: () => void }> {
    return this.#withRetry(request, async (signal, controller) => {
      const response = await this.#send(url, request, signal);
      return { response, close: () => controller.abort() };
    });
  }

  async #withRetry<T>(
    request: HttpRequest,
    once: (signal: AbortSignal, controller: AbortController) => Promise<T>,
  ): Promise<T> {
    const idempotent = (request.method ?? "GET") === "GET";
    for (let attempt = 0; ; attempt++) {
      // An abort listener added to a signal that has already aborted never fires: such a request never starts.
      request.signal?.throwIfAborted();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error("timeout")), this.#timeoutMs);
      const onAbort = () => controller.abort(request.signal?.reason);
      request.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        return await once(controller.signal, controller);
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason;
        const failure =
          error instanceof ActivityPubError
            ? error
            : new ActivityPubError("network", `request failed: ${describe(error)}`, {}, { cause: error });
        if (attempt >= this.#retry.retries || !shouldRetry(failure, idempotent)) throw failure;
        if (failure.retryAfterMs !== undefined && failure.retryAfterMs > this.#retry.maxRetryAfterMs)
          throw failure;
        await sleep(failure.retryAfterMs ?? backoffDelay(attempt, this.#retry, this.#random), request.signal);
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
      }
    }
  }

  async #send(url: string, request: HttpRequest, signal: AbortSignal): Promise<Response> {
    await this.#guard(url);
    const headers: Record<string, string> = {
      accept: request.accept ?? acceptActivity,
      "user-agent": this.#userAgent,
      ...request.headers,
    };
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    if (request.json !== undefined) headers["content-type"] = activityJson;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: request.method ?? "GET",
        headers,
        body: request.json === undefined ? undefined : JSON.stringify(request.json),
        signal,
        redirect: "follow",
      });
    } catch (cause) {
      // A redirect the guard refused, a body over the limit: already what the caller should see.
      if (cause instanceof ActivityPubError) throw cause;
      const timedOut = signal.aborted && !request.signal?.aborted;
      throw new ActivityPubError(
        "network",
        timedOut
          ? `timed out after ${this.#timeoutMs} ms: ${url}`
          : `cannot reach ${url}: ${describe(cause)}`,
        { url },
        { cause },
      );
    }
    if (response.ok) return response;
    throw await failureOf(response, url);
  }

  async #guard(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ActivityPubError("invalid_url", `not a URL: ${url}`, { url });
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      throw new ActivityPubError("invalid_url", `not an http(s) URL: ${url}`, { url });
    }
    if (this.#allowPrivateAddress) return;
    try {
      await validatePublicUrl(url);
    } catch (cause) {
      if (cause instanceof UrlError) {
        throw new ActivityPubError("invalid_url", `refusing ${url}: ${cause.message}`, { url }, { cause });
      }
      throw cause;
    }
  }

  async #readText(response: Response, url: string): Promise<string> {
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > this.#maxBodyBytes) {
      await response.body?.cancel();
      throw new ActivityPubError("invalid_response", `response from ${url} is too large`, {
        url,
        status: response.status,
      });
    }
    if (response.body === null) return "";
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > this.#maxBodyBytes) {
        await response.body.cancel().catch(() => {});
        throw new ActivityPubError("invalid_response", `response from ${url} is too large`, {
          url,
          status: response.status,
        });
      }
      chunks.push(chunk);
    }
    // One chunk (a whole body from nodeFetch) is decoded where it is, not copied first.
    const [only] = chunks;
    const whole = chunks.length === 1 && only !== undefined ? only : Buffer.concat(chunks);
    return Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength).toString("utf8");
  }
}

function shouldRetry(error: ActivityPubError, idempotent: boolean): boolean {
  if (idempotent) return error.retryable;
  return error.code === "rate_limited" || (error.status === 503 && error.retryAfterMs !== undefined);
}

async function failureOf(response: Response, url: string): Promise<ActivityPubError> {
  const code = codeForStatus(response.status);
  let serverCode: string | undefined;
  let serverMessage: string | undefined;
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error === "string") serverCode = body.error;
    if (typeof body.message === "string") serverMessage = body.message.slice(0, 200);
  } catch {
    // Not JSON: the status alone says enough.
  }
  return new ActivityPubError(
    code,
    `${response.status} from ${url}${serverMessage ? `: ${serverMessage}` : ""}`,
    {
      url,
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
      serverCode,
    },
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
