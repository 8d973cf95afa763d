// Every error the API answers with. The JSON-RPC `error.code` is a number (the JSON-RPC 2.0 standard codes,
// and the implementation range -32000..-32099 for domain errors); `error.data.code` is a stable string a client
// switches on. Both are part of the contract: never renumber or rename one.
import { SottoError } from "@sotto/shared/errors";
import { z } from "zod";

export const API_ERRORS = {
  // JSON-RPC 2.0
  parse_error: { rpc: -32700, description: "The frame is not valid JSON. The connection stays open." },
  invalid_request: { rpc: -32600, description: "The frame is JSON but not a JSON-RPC 2.0 request." },
  method_not_found: { rpc: -32601, description: "No such method." },
  invalid_params: {
    rpc: -32602,
    description:
      "The params do not match the method's schema; `data.issues` lists every problem (zod issues).",
  },
  internal_error: {
    rpc: -32603,
    description: "The daemon failed unexpectedly; nothing was changed half-way.",
  },
  // Connection
  unauthorized: {
    rpc: -32001,
    description: "No valid token was given; the connection is closed after this.",
  },
  rate_limited: {
    rpc: -32002,
    description: "Too many requests on this connection; `data.retryAfterMs` says when to try again.",
  },
  not_ready: { rpc: -32003, description: "The daemon has no account set up or its store is not open yet." },
  // Lookups
  conversation_not_found: { rpc: -32010, description: "No conversation with that id." },
  message_not_found: { rpc: -32011, description: "No message with that id in that conversation." },
  contact_not_found: { rpc: -32012, description: "No contact known by that handle or actor id." },
  actor_not_found: {
    rpc: -32013,
    description: "The handle or actor id could not be resolved (WebFinger / fetch).",
  },
  // Rules
  not_a_member: {
    rpc: -32020,
    description: "This account is not (or no longer) a member of the conversation.",
  },
  not_author: { rpc: -32021, description: "Only a message's author may edit or delete it." },
  already_member: { rpc: -32022, description: "The actor is already a member of the conversation." },
  no_key_package: {
    rpc: -32023,
    description: "The actor publishes no usable KeyPackage (no MLS device), so it cannot be added.",
  },
  fingerprint_mismatch: {
    rpc: -32024,
    description: "The fingerprint given to contacts.verify does not match the contact's current keys.",
  },
  // Outside world
  server_unavailable: {
    rpc: -32030,
    description: "The home server could not be reached or refused the request.",
  },
  // The local store
  device_not_found: {
    rpc: -32014,
    description: "No device of this account with that id (`devices.list` shows them).",
  },
  link_refused: {
    rpc: -32025,
    description:
      "The link could not be made: the code is wrong, used or expired, this daemon is linked already, or no linked device of the account publishes KeyPackages.",
  },
  tampered: {
    rpc: -32040,
    description: "The daemon's store failed an integrity check (changed on disk); restore it from an export.",
  },
} as const satisfies Record<string, { rpc: number; description: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export const ApiErrorCode = z.enum(Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]]).meta({
  id: "ApiErrorCode",
  description: "The stable, machine-readable name of an error (`error.data.code`).",
});

export const ZodIssue = z
  .object({ code: z.string(), path: z.array(z.union([z.string(), z.number()])), message: z.string() })
  .loose()
  .meta({ id: "ParamsIssue", description: "One problem with the params, as zod reports it." });

export const ApiErrorData = z
  .object({
    code: ApiErrorCode,
    issues: z.array(ZodIssue).optional(),
    retryAfterMs: z.int().min(0).optional(),
  })
  .meta({ id: "ApiErrorData", description: "The `data` member of every error response." });

export const RpcError = z
  .object({ code: z.int(), message: z.string(), data: ApiErrorData })
  .meta({ id: "RpcError", description: "The `error` member of a JSON-RPC error response." });

export type ApiErrorData = z.infer<typeof ApiErrorData>;
export type RpcError = z.infer<typeof RpcError>;

/** A typed API error: thrown by method handlers in the daemon, and by `SottoClient` when the daemon answers one. */
export class ApiError extends SottoError<ApiErrorCode> {
  readonly rpcCode: number;
  readonly data: ApiErrorData;

  constructor(
    code: ApiErrorCode,
    message: string,
    extra: Omit<ApiErrorData, "code"> = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.rpcCode = API_ERRORS[code].rpc;
    this.data = { ...extra, code };
  }

  toJSON(): RpcError {
    return { code: this.rpcCode, message: this.message, data: this.data };
  }

  /** Reads an `error` member received from the daemon; anything unexpected becomes `internal_error`. */
  static fromRpc(error: unknown): ApiError {
    const parsed = RpcError.safeParse(error);
    if (!parsed.success)
      return new ApiError("internal_error", "The daemon sent an error the client cannot read");
    const { code: _code, ...extra } = parsed.data.data;
    return new ApiError(parsed.data.data.code, parsed.data.message, extra);
  }
}
