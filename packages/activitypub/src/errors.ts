import { SottoError } from "@sotto/core";

/**
 * Why a request to an ActivityPub server failed. `unauthorized` covers 401 and 403 (a wrong or missing bearer
 * token, or an owner-only collection read by someone else); `client_error` any other 4xx; `invalid_response` a
 * 2xx whose body is not the JSON we asked for; `invalid_url` a handle or URL we cannot or may not ask about (malformed, or a private address).
 */
export type ActivityPubErrorCode =
  | "unauthorized"
  | "not_found"
  | "gone"
  | "rate_limited"
  | "server_error"
  | "client_error"
  | "network"
  | "invalid_response"
  | "invalid_url";

export interface ActivityPubErrorDetails {
  readonly url?: string;
  readonly status?: number;
  /** When the server said when to come back (`Retry-After`), in milliseconds from now. */
  readonly retryAfterMs?: number;
  /** The server's own error code from a `{"error": ..., "message": ...}` body, if any. */
  readonly serverCode?: string;
}

export class ActivityPubError extends SottoError<ActivityPubErrorCode> {
  readonly url?: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly serverCode?: string;

  constructor(
    code: ActivityPubErrorCode,
    message: string,
    details: ActivityPubErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.url = details.url;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.serverCode = details.serverCode;
  }

  /** Worth trying again later: the network, an overloaded or failing server. Never a 4xx but 429. */
  get retryable(): boolean {
    return this.code === "network" || this.code === "server_error" || this.code === "rate_limited";
  }
}

/** Maps an HTTP status that is not 2xx to its error code. */
export function codeForStatus(status: number): ActivityPubErrorCode {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 410) return "gone";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  return "client_error";
}
