import type { MethodName, Params, Result } from "@sotto/api";

/** The methods the server answers itself: authentication and event subscriptions. */
export type ServerMethod = "auth" | "auth.code" | "events.subscribe" | "events.unsubscribe";

/**
 * What the daemon provides: one function per method, receiving validated params (defaults applied) and
 * returning the result, or throwing an `ApiError` for a domain error. Anything else thrown is answered as
 * `internal_error` without its message (it could hold secrets).
 */
export type Handlers = {
  readonly [M in Exclude<MethodName, ServerMethod>]: (params: Params<M>) => Result<M> | Promise<Result<M>>;
};

/** What the server accepts: a method without a handler answers `method_not_found` (not in this daemon). */
export type PartialHandlers = Partial<Handlers>;
