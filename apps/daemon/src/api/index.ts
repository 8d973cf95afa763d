// The daemon's local API server. See docs/api.md and the "API and CLI" section of the README.
export { CLOSE } from "./connection.js";
export { daemonHandlers } from "./daemon-handlers.js";
export { ENDPOINT_FILE, type Endpoint, readEndpoint, tokenPath, writeEndpoint } from "./endpoint.js";
export { ApiServerError, type ApiServerErrorCode } from "./errors.js";
export { EventHub, type EventLog, type EventPage } from "./event-hub.js";
export type { Handlers, PartialHandlers, ServerMethod } from "./handlers.js";
export { assertLoopbackBind, isLoopbackAddress } from "./loopback.js";
export type { RateLimit } from "./rate-limit.js";
export { type ServeApiOptions, serveApi } from "./serve.js";
export { type ApiServer, type ApiServerOptions, startApiServer } from "./server.js";
export { type StoreEvents, storeEventLog, toEventInput } from "./store-event-log.js";
export { loadOrCreateToken, readToken, TOKEN_FILE } from "./token.js";
